"""Identity: one-time codes, documents checked by staff, representatives, uploads."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.privacy_requests import services
from apps.privacy_requests.models import (
    CLOSED_STATUSES,
    IdentityDocument,
    IdentityMethod,
    Kind,
    PrivacyRequest,
    RequesterType,
    RequestEvent,
    Status,
)
from apps.privacy_requests.validators import (
    detect_content_type,
    months_before,
    validate_seal_certificate_date,
)
from tests.privacy_requests.conftest import JPEG, PDF, PNG, make_request, send_code_and_read

pytestmark = pytest.mark.django_db

Purpose = IdentityDocument.Purpose
DocumentType = IdentityDocument.DocumentType


# ------------------------------------------------------------------ one-time code


def test_code_goes_to_the_address_on_file_and_is_stored_hashed(customer, officer):
    pr = make_request(customer, requester_email="someone-else@example.com")
    code = send_code_and_read(pr, officer)
    assert mail.outbox[-1].to == [customer.email]  # not the address the requester gave
    pr.refresh_from_db()
    assert pr.status == Status.IDENTITY
    assert pr.code_hash and code not in pr.code_hash and len(pr.code_hash) == 64
    pr = services.privacy_request_check_code(privacy_request=pr, code=code, by=officer)
    assert pr.identity_method == IdentityMethod.CODE and pr.status == Status.REVIEW
    assert pr.code_hash == ""  # used up
    with pytest.raises(ValidationError):
        services.privacy_request_check_code(privacy_request=pr, code=code, by=officer)


def test_wrong_codes_count_and_lock_out(customer, officer, settings):
    settings.PRIVACY_CODE_MAX_ATTEMPTS = 3
    pr = make_request(customer)
    code = send_code_and_read(pr, officer)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(ValidationError, match="2 attempt"):
        services.privacy_request_check_code(privacy_request=pr, code=wrong, by=officer)
    with pytest.raises(ValidationError, match="1 attempt"):
        services.privacy_request_check_code(privacy_request=pr, code=wrong, by=officer)
    with pytest.raises(ValidationError, match="new code"):
        services.privacy_request_check_code(privacy_request=pr, code=wrong, by=officer)
    # Even the right code is useless now: a new one must be sent.
    with pytest.raises(ValidationError):
        services.privacy_request_check_code(privacy_request=pr, code=code, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.IDENTITY and pr.identity_verified_at is None
    assert pr.events.filter(step="code_failed").count() == 3
    fresh = send_code_and_read(pr, officer)
    pr = services.privacy_request_check_code(privacy_request=pr, code=fresh, by=officer)
    assert pr.status == Status.REVIEW


def test_an_expired_code_is_refused(customer, officer):
    pr = make_request(customer)
    code = send_code_and_read(pr, officer)
    PrivacyRequest.objects.filter(pk=pr.pk).update(
        code_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(ValidationError, match="expired"):
        services.privacy_request_check_code(privacy_request=pr, code=code, by=officer)
    pr.refresh_from_db()
    assert pr.identity_verified_at is None


def test_mypage_counts_as_verified_only_for_the_member(customer, settings):
    pr = services.privacy_request_create_from_mypage(customer=customer, kind=Kind.STOP_OF_USE)
    assert pr.identity_method == IdentityMethod.MYPAGE and pr.status == Status.REVIEW
    settings.PRIVACY_MYPAGE_COUNTS_AS_VERIFIED = False
    pr = services.privacy_request_create_from_mypage(customer=customer, kind=Kind.STOP_OF_USE)
    assert pr.status == Status.RECEIVED and pr.identity_verified_at is None


def test_mypage_method_refused_for_anybody_else(customer, officer):
    pr = make_request(customer)
    with pytest.raises(ValidationError):
        services.privacy_request_verify_identity(
            privacy_request=pr, method=IdentityMethod.MYPAGE, by=officer
        )


# ------------------------------------------------------------------ documents


def upload(content=PDF, name="scan.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def add(pr, officer, purpose, document_type, content=PDF, **extra):
    return services.identity_document_add(
        privacy_request=pr,
        purpose=purpose,
        document_type=document_type,
        upload=upload(content),
        by=officer,
        **extra,
    )


@pytest.mark.parametrize("content", [PDF, PNG, JPEG])
def test_pdf_jpeg_png_are_accepted_by_content(customer, officer, content, private_root):
    pr = make_request(customer)
    document = add(pr, officer, Purpose.IDENTITY, DocumentType.PASSPORT, content=content)
    assert document.content_type == detect_content_type(content)
    path = private_root / document.file.name
    assert path.read_bytes() == content
    # Named by a random token, never by the uploaded name or anything about the person.
    assert re.fullmatch(rf"identity/{pr.pk}/[0-9a-f]{{32}}\.(pdf|png|jpg)", document.file.name)
    with pytest.raises(ValueError):
        document.file.url  # noqa: B018 - private files have no URL


def test_wrong_type_by_content_is_refused(customer, officer, private_root):
    pr = make_request(customer)
    # Named .pdf and claimed as PDF, but it is an HTML page.
    fake = SimpleUploadedFile("id.pdf", b"<html><script>x</script></html>", "application/pdf")
    with pytest.raises(ValidationError, match="PDF, JPEG or PNG"):
        services.identity_document_add(
            privacy_request=pr,
            purpose=Purpose.IDENTITY,
            document_type=DocumentType.PASSPORT,
            upload=fake,
            by=officer,
        )
    assert not IdentityDocument.objects.exists()
    assert not private_root.exists() or not any(private_root.rglob("*.*"))


def test_more_than_10_mb_is_refused(customer, officer, private_root):
    pr = make_request(customer)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")
    with pytest.raises(ValidationError, match="too large"):
        services.identity_document_add(
            privacy_request=pr,
            purpose=Purpose.IDENTITY,
            document_type=DocumentType.PASSPORT,
            upload=big,
            by=officer,
        )
    assert not IdentityDocument.objects.exists()
    exactly = SimpleUploadedFile("ok.pdf", PDF + b"0" * (10 * 1024 * 1024 - len(PDF)), "x/y")
    services.identity_document_add(
        privacy_request=pr,
        purpose=Purpose.IDENTITY,
        document_type=DocumentType.PASSPORT,
        upload=exactly,
        by=officer,
    )


def test_health_insurance_card_needs_its_number_masked(customer, officer):
    pr = make_request(customer)
    with pytest.raises(ValidationError, match="masked"):
        add(pr, officer, Purpose.IDENTITY, DocumentType.HEALTH_INSURANCE)
    document = add(pr, officer, Purpose.IDENTITY, DocumentType.HEALTH_INSURANCE, number_masked=True)
    assert document.number_masked


def test_a_document_type_must_fit_its_purpose(customer, officer):
    pr = make_request(customer)
    with pytest.raises(ValidationError):
        add(pr, officer, Purpose.IDENTITY, DocumentType.POWER_OF_ATTORNEY)


def test_documents_verify_the_person_and_are_purged(customer, officer, private_root):
    pr = make_request(customer)
    with pytest.raises(ValidationError, match="identity document"):
        services.privacy_request_verify_identity(
            privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
        )
    document = add(pr, officer, Purpose.IDENTITY, DocumentType.DRIVERS_LICENSE)
    path = private_root / document.file.name
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        pr = services.privacy_request_verify_identity(
            privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
        )
    assert pr.status == Status.REVIEW and pr.identity_verified_by == officer
    document.refresh_from_db()
    assert document.checked_by == officer and document.checked_at
    assert document.purged_at and not document.file and not path.exists()
    assert document.document_type == DocumentType.DRIVERS_LICENSE  # what was checked stays


def test_support_staff_cannot_verify_by_documents(customer, support):
    pr = make_request(customer)
    add(pr, support, Purpose.IDENTITY, DocumentType.PASSPORT)
    support.is_staff = False
    with pytest.raises(ValidationError):
        services.privacy_request_verify_identity(
            privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=support
        )


def appointed(customer):
    return make_request(
        customer,
        requester_type=RequesterType.APPOINTED_REPRESENTATIVE,
        representative_name="弁護士 佐藤",
    )


def test_appointed_representative_needs_power_of_attorney_and_seal_certificate(
    customer, officer, settings
):
    settings.PRIVACY_REQUIRE_SEAL_CERTIFICATE = True
    pr = appointed(customer)
    add(pr, officer, Purpose.REPRESENTATIVE_IDENTITY, DocumentType.PASSPORT)
    with pytest.raises(ValidationError) as missing:
        services.privacy_request_verify_identity(
            privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
        )
    assert "power of attorney" in missing.value.messages[0]
    assert "seal registration certificate" in missing.value.messages[0]
    add(pr, officer, Purpose.POWER_OF_ATTORNEY, DocumentType.POWER_OF_ATTORNEY)
    add(
        pr,
        officer,
        Purpose.SEAL_CERTIFICATE,
        DocumentType.SEAL_CERTIFICATE,
        issued_on=timezone.localdate() - datetime.timedelta(days=30),
    )
    pr = services.privacy_request_verify_identity(
        privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
    )
    assert pr.status == Status.REVIEW


def test_seal_certificate_not_needed_when_the_shop_does_not_ask(customer, officer, settings):
    settings.PRIVACY_REQUIRE_SEAL_CERTIFICATE = False
    pr = appointed(customer)
    add(pr, officer, Purpose.REPRESENTATIVE_IDENTITY, DocumentType.PASSPORT)
    add(pr, officer, Purpose.POWER_OF_ATTORNEY, DocumentType.POWER_OF_ATTORNEY)
    pr = services.privacy_request_verify_identity(
        privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
    )
    assert pr.status == Status.REVIEW


def test_an_old_seal_certificate_is_refused(customer, officer):
    pr = appointed(customer)
    received = timezone.localdate(pr.received_at)
    with pytest.raises(ValidationError, match="three months"):
        add(
            pr,
            officer,
            Purpose.SEAL_CERTIFICATE,
            DocumentType.SEAL_CERTIFICATE,
            issued_on=months_before(received, 3) - datetime.timedelta(days=1),
        )
    with pytest.raises(ValidationError, match="issue date"):
        add(pr, officer, Purpose.SEAL_CERTIFICATE, DocumentType.SEAL_CERTIFICATE)
    assert not IdentityDocument.objects.exists()


def test_legal_representative_needs_proof_of_authority(customer, officer):
    pr = make_request(
        customer,
        requester_type=RequesterType.LEGAL_REPRESENTATIVE,
        representative_name="山田 太郎",
    )
    add(pr, officer, Purpose.REPRESENTATIVE_IDENTITY, DocumentType.DRIVERS_LICENSE)
    with pytest.raises(ValidationError, match="legal representation"):
        services.privacy_request_verify_identity(
            privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
        )
    add(pr, officer, Purpose.PROOF_OF_AUTHORITY, DocumentType.FAMILY_REGISTER)
    pr = services.privacy_request_verify_identity(
        privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=officer
    )
    assert pr.status == Status.REVIEW


def test_a_representative_must_be_named(customer):
    with pytest.raises(ValidationError):
        make_request(customer, requester_type=RequesterType.APPOINTED_REPRESENTATIVE)


@pytest.mark.parametrize(
    ("on", "earliest"),
    [
        (datetime.date(2026, 5, 15), datetime.date(2026, 2, 15)),
        (datetime.date(2026, 5, 31), datetime.date(2026, 2, 28)),
        (datetime.date(2028, 5, 31), datetime.date(2028, 2, 29)),
        (datetime.date(2026, 1, 10), datetime.date(2025, 10, 10)),
    ],
)
def test_seal_certificate_three_month_rule(on, earliest):
    assert months_before(on, 3) == earliest
    validate_seal_certificate_date(earliest, on=on)
    validate_seal_certificate_date(on, on=on)
    with pytest.raises(ValidationError):
        validate_seal_certificate_date(earliest - datetime.timedelta(days=1), on=on)
    with pytest.raises(ValidationError):
        validate_seal_certificate_date(on + datetime.timedelta(days=1), on=on)


def test_purge_after_closing(customer, officer, settings, private_root):
    settings.PRIVACY_DOCUMENT_RETENTION_DAYS = 30
    pr = make_request(customer)
    document = add(pr, officer, Purpose.IDENTITY, DocumentType.PASSPORT)
    services.privacy_request_withdraw(privacy_request=pr, by=officer)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.privacy_requests_purge()["documents"] == 0  # closed just now
    later = timezone.now() + datetime.timedelta(days=31)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.privacy_requests_purge(now=later)["documents"] == 1
    document.refresh_from_db()
    assert document.purged_at and not document.file
    assert not list((private_root / f"identity/{pr.pk}").glob("*"))
    assert services.privacy_requests_purge(now=later)["documents"] == 0  # nothing more


def test_documents_of_a_request_left_unfinished_are_purged_after_the_limit(
    customer, officer, settings, private_root, django_capture_on_commit_callbacks
):
    settings.PRIVACY_UNFINISHED_DOCUMENT_DAYS = 90
    forgotten, active = make_request(customer), make_request(customer)
    old = add(forgotten, officer, Purpose.IDENTITY, DocumentType.PASSPORT)
    recent = add(active, officer, Purpose.IDENTITY, DocumentType.PASSPORT)
    day_91 = timezone.now() + datetime.timedelta(days=91)
    # The other request had a step in its timeline ten days ago: it is not left unfinished.
    RequestEvent.objects.filter(privacy_request=active).update(
        at=day_91 - datetime.timedelta(days=10)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.privacy_requests_purge(now=day_91 - datetime.timedelta(days=2)) == {
            "documents": 0, "unfinished_documents": 0, "packages": 0, "contacts": 0,
        }  # fmt: skip
        assert services.privacy_requests_purge(now=day_91)["unfinished_documents"] == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.purged_at and not old.file and recent.file and recent.purged_at is None
    assert not list((private_root / f"identity/{forgotten.pk}").glob("*"))
    assert list((private_root / f"identity/{active.pk}").glob("*"))
    assert forgotten.events.filter(step=RequestEvent.Step.DOCUMENTS_PURGED, note="1").exists()
    assert forgotten.status not in CLOSED_STATUSES  # the request itself stays as it was
    assert services.privacy_requests_purge(now=day_91)["unfinished_documents"] == 0


def test_the_purge_runs_daily():
    """It runs with the daily retention run (tests/privacy_requests/test_retention.py)."""
    from django_celery_beat.models import PeriodicTask

    from apps.core import retention

    assert "privacy_request_files" in [rule.name for rule in retention.rules()]
    task = PeriodicTask.objects.get(task="apps.core.tasks.retention_run_task")
    assert task.enabled and task.crontab.hour == "3"
