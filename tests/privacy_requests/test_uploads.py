"""An identity document above PRIVACY_UPLOAD_MAX_BYTES is refused with the form's clear message
before any of it reaches disk (apps/core/uploads.py); before, Django wrote the whole file to a
temporary file first and the size check ran on what was already on disk."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.privacy_requests.models import IdentityDocument
from tests.privacy_requests.conftest import PDF, make_request

pytestmark = pytest.mark.django_db

LIMIT = 1024 * 1024


@pytest.fixture
def upload(client, customer, officer, settings, tmp_path):
    """Posts a file to the officer's document form, with every upload Django keeps going to a
    temporary file (none kept in memory) under tmp_path/uploads."""
    settings.PRIVACY_UPLOAD_MAX_BYTES = LIMIT
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"
    client.force_login(officer)
    url = reverse(
        "admin:privacy_requests_privacyrequest_document_add", args=[make_request(customer).pk]
    )

    def post(content: bytes):
        document = SimpleUploadedFile("license.pdf", content, "application/pdf")
        return client.post(
            url, {"purpose": "identity", "document_type": "drivers_license", "file": document}
        )

    return post


def test_a_file_above_the_limit_is_refused_before_a_temporary_file_is_opened(upload, tmp_path):
    # The temporary directory does not exist: opening a temporary file there would fail loudly.
    response = upload(PDF + b"0" * (2 * LIMIT))

    assert response.status_code == 200
    assert "The file is too large: at most 1 MB." in response.content.decode()
    assert not IdentityDocument.objects.exists()
    assert not (tmp_path / "uploads").exists() and not (tmp_path / "private").exists()


def test_a_file_just_over_the_limit_is_cut_off_at_the_limit_and_its_temporary_file_deleted(
    upload, tmp_path
):
    (tmp_path / "uploads").mkdir()
    response = upload(PDF + b"0" * (LIMIT + 1 - len(PDF)))

    assert response.status_code == 200
    assert "The file is too large: at most 1 MB." in response.content.decode()
    assert not IdentityDocument.objects.exists()
    assert list((tmp_path / "uploads").iterdir()) == []
    assert not (tmp_path / "private").exists()


def test_a_file_within_the_limit_is_stored(upload, tmp_path):
    (tmp_path / "uploads").mkdir()
    response = upload(PDF + b"0" * (LIMIT - len(PDF)))

    assert response.status_code == 302
    assert IdentityDocument.objects.get().size == LIMIT
