"""The purge of identity documents, expired packages and stale contact details is a rule of the
retention registry: the daily retention run (and ``retention_run --dry-run``) covers it, and no
schedule of its own runs it."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core import retention
from apps.core.services import retention_run
from apps.privacy_requests import services
from apps.privacy_requests.models import IdentityDocument
from tests.privacy_requests.conftest import PDF, make_request

pytestmark = pytest.mark.django_db


def files(root):
    return [path for path in root.rglob("*") if path.is_file()]


def closed_request_with_a_document(customer, officer):
    pr = make_request(customer)
    document = services.identity_document_add(
        privacy_request=pr,
        purpose=IdentityDocument.Purpose.IDENTITY,
        document_type=IdentityDocument.DocumentType.PASSPORT,
        upload=SimpleUploadedFile("passport.pdf", PDF, content_type="application/pdf"),
        by=officer,
    )
    services.privacy_request_withdraw(privacy_request=pr, by=officer)
    return document


def test_the_purge_is_a_registered_rule_and_has_no_schedule_of_its_own():
    assert "privacy_request_files" in [rule.name for rule in retention.rules()]
    assert not PeriodicTask.objects.filter(task__startswith="apps.privacy_requests.").exists()


def test_the_retention_run_purges_documents_past_their_limit(
    customer, officer, settings, private_root, django_capture_on_commit_callbacks
):
    settings.PRIVACY_DOCUMENT_RETENTION_DAYS = 30
    document = closed_request_with_a_document(customer, officer)
    today = timezone.localdate()
    later = today + datetime.timedelta(days=32)

    assert retention_run(today=today)["privacy_request_files"] == 0  # closed just now
    assert retention_run(today=later, dry_run=True)["privacy_request_files"] == 1
    document.refresh_from_db()
    assert document.file and document.purged_at is None  # the dry run changed nothing
    assert files(private_root)

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_run(today=later)["privacy_request_files"] == 1
    document.refresh_from_db()
    assert not document.file and document.purged_at
    assert not files(private_root)
    assert retention_run(today=later)["privacy_request_files"] == 0  # nothing more
