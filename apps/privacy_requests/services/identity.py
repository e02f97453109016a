"""Identity verification (a logged-in member, a one-time code, or documents) and the fee."""

from __future__ import annotations

import datetime
import hmac
import logging
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from apps.core.mail import send_mail
from apps.privacy_requests.models import (
    FeeStatus,
    IdentityDocument,
    IdentityMethod,
    PrivacyRequest,
    RequesterType,
    RequestEvent,
    Status,
)
from apps.privacy_requests.services.workflow import event_add, lock, transition
from apps.privacy_requests.storage import private_storage
from apps.privacy_requests.validators import (
    EXTENSIONS,
    validate_seal_certificate_date,
    validate_upload,
)

if TYPE_CHECKING:
    from apps.customers.models import User

logger = logging.getLogger(__name__)

Step = RequestEvent.Step
Purpose = IdentityDocument.Purpose
DocumentType = IdentityDocument.DocumentType

PERSON_ID_TYPES = {
    DocumentType.DRIVERS_LICENSE,
    DocumentType.PASSPORT,
    DocumentType.HEALTH_INSURANCE,
    DocumentType.MY_NUMBER_FRONT,
    DocumentType.RESIDENCE_CARD,
}
TYPES_FOR_PURPOSE = {
    Purpose.IDENTITY: PERSON_ID_TYPES,
    Purpose.REPRESENTATIVE_IDENTITY: PERSON_ID_TYPES,
    Purpose.POWER_OF_ATTORNEY: {DocumentType.POWER_OF_ATTORNEY},
    Purpose.SEAL_CERTIFICATE: {DocumentType.SEAL_CERTIFICATE},
    Purpose.PROOF_OF_AUTHORITY: {
        DocumentType.FAMILY_REGISTER,
        DocumentType.HEALTH_INSURANCE,
        DocumentType.OTHER_PROOF,
    },
}


@transaction.atomic
def privacy_request_start_verification(
    *, privacy_request: PrivacyRequest, by: User | None
) -> PrivacyRequest:
    privacy_request = lock(privacy_request)
    return transition(privacy_request, Status.IDENTITY, step=Step.VERIFICATION_STARTED, by=by)


def _ensure_verifying(privacy_request: PrivacyRequest, by: User | None) -> PrivacyRequest:
    if privacy_request.status == Status.RECEIVED:
        transition(privacy_request, Status.IDENTITY, step=Step.VERIFICATION_STARTED, by=by)
    elif privacy_request.status != Status.IDENTITY:
        raise ValidationError(_("This request is not waiting for identity verification."))
    return privacy_request


@transaction.atomic
def privacy_request_verify_identity(
    *, privacy_request: PrivacyRequest, method: str, by: User | None
) -> PrivacyRequest:
    """Record how identity was established, then go on to the fee (if one is due) or review.

    Documents must satisfy the representative rules; once checked, their files are purged when
    the shop's procedure says so (PRIVACY_PURGE_DOCUMENTS_ON_VERIFICATION)."""
    privacy_request = lock(privacy_request)
    _ensure_verifying(privacy_request, by)
    now = timezone.now()
    if method == IdentityMethod.MYPAGE:
        if (
            privacy_request.customer is None
            or by is None
            or privacy_request.customer.user_id != by.pk
        ):
            raise ValidationError(
                _("Only the member's own request from My Page counts as verified.")
            )
        if privacy_request.requester_type != RequesterType.PERSON:
            raise ValidationError(_("A representative's request needs documents."))
    elif method == IdentityMethod.DOCUMENTS:
        if by is None or not by.is_staff:
            raise ValidationError(_("Documents are checked by staff."))
        documents = list(privacy_request.documents.select_for_update().filter(purged_at=None))
        documents_check(privacy_request=privacy_request, documents=documents)
        IdentityDocument.objects.filter(pk__in=[d.pk for d in documents]).update(
            checked_by=by, checked_at=now
        )
    elif method != IdentityMethod.CODE:
        raise ValidationError(_("Choose how identity was verified."))
    privacy_request.identity_method = method
    privacy_request.identity_verified_at = now
    privacy_request.identity_verified_by = by if by is not None and by.is_staff else None
    privacy_request.code_hash = ""
    privacy_request.save(
        update_fields=[
            "identity_method",
            "identity_verified_at",
            "identity_verified_by",
            "code_hash",
            "updated_at",
        ]
    )
    event_add(
        privacy_request=privacy_request,
        step=Step.IDENTITY_VERIFIED,
        by=by,
        note=IdentityMethod(method).label,
    )
    if method == IdentityMethod.DOCUMENTS and settings.PRIVACY_PURGE_DOCUMENTS_ON_VERIFICATION:
        from apps.privacy_requests.services.retention import documents_purge_for

        documents_purge_for(privacy_request=privacy_request)
    if privacy_request.fee_status == FeeStatus.PENDING:
        transition(privacy_request, Status.FEE, step=Step.FEE_REQUESTED, by=None)
    else:
        transition(privacy_request, Status.REVIEW, step=Step.IN_REVIEW, by=None)
    return privacy_request


def documents_check(*, privacy_request: PrivacyRequest, documents: list[IdentityDocument]) -> None:
    """The documents the policy asks for (Art. 4 (5)): one ID of whoever makes the request, and
    for a representative the proof of their authority."""
    purposes = {d.purpose for d in documents}
    problems = []
    if privacy_request.requester_type == RequesterType.PERSON:
        if Purpose.IDENTITY not in purposes:
            problems.append(_("an identity document of the person"))
    else:
        if Purpose.REPRESENTATIVE_IDENTITY not in purposes:
            problems.append(_("an identity document of the representative"))
    if privacy_request.requester_type == RequesterType.APPOINTED_REPRESENTATIVE:
        if Purpose.POWER_OF_ATTORNEY not in purposes:
            problems.append(_("a power of attorney"))
        if settings.PRIVACY_REQUIRE_SEAL_CERTIFICATE:
            seals = [d for d in documents if d.purpose == Purpose.SEAL_CERTIFICATE]
            if not seals:
                problems.append(_("the person's seal registration certificate"))
            else:
                on = timezone.localdate(privacy_request.received_at)
                try:
                    validate_seal_certificate_date(max(d.issued_on for d in seals), on=on)
                except ValidationError as exc:
                    raise ValidationError(exc.messages) from exc
    if (
        privacy_request.requester_type == RequesterType.LEGAL_REPRESENTATIVE
        and Purpose.PROOF_OF_AUTHORITY not in purposes
    ):
        problems.append(_("proof of legal representation"))
    if problems:
        raise ValidationError(
            _("Identity cannot be verified yet; missing: %s.") % ", ".join(problems)
        )


@transaction.atomic
def identity_document_add(
    *,
    privacy_request: PrivacyRequest,
    purpose: str,
    document_type: str,
    upload,
    by: User,
    issued_on: datetime.date | None = None,
    number_masked: bool = False,
) -> IdentityDocument:
    """Store a scanned document privately, after checking what it is by its content."""
    privacy_request = lock(privacy_request)
    _ensure_verifying(privacy_request, by)
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Choose what the document proves.")})
    if document_type not in TYPES_FOR_PURPOSE[purpose]:
        raise ValidationError({"document_type": _("This type of document does not prove that.")})
    if document_type == DocumentType.HEALTH_INSURANCE and not number_masked:
        raise ValidationError(
            {
                "number_masked": _(
                    "A health insurance card may only be kept with its insurer number and "
                    "symbol/number masked (Health Insurance Act Art. 194-2)."
                )
            }
        )
    if purpose == Purpose.SEAL_CERTIFICATE:
        try:
            validate_seal_certificate_date(
                issued_on, on=timezone.localdate(privacy_request.received_at)
            )
        except ValidationError as exc:
            raise ValidationError({"issued_on": exc.messages}) from exc
    content_type = validate_upload(upload)
    storage = private_storage()
    name = storage.save(
        f"identity/{privacy_request.pk}/{secrets.token_hex(16)}.{EXTENSIONS[content_type]}",
        upload,
    )
    # Files are not transactional: if writing the row fails, do not leave the file behind.
    try:
        document = IdentityDocument.objects.create(
            privacy_request=privacy_request,
            purpose=purpose,
            document_type=document_type,
            file=name,
            content_type=content_type,
            size=upload.size,
            issued_on=issued_on,
            number_masked=number_masked,
            uploaded_by=by,
        )
        event_add(
            privacy_request=privacy_request,
            step=Step.DOCUMENT_ADDED,
            by=by,
            note=f"{Purpose(purpose).label}: {DocumentType(document_type).label}",
        )
    except Exception:
        storage.delete(name)
        raise
    return document


# ------------------------------------------------------------------ one-time code


def _code_hash(privacy_request_id: int, code: str) -> str:
    return salted_hmac(
        "privacy_requests.code", f"{privacy_request_id}:{code}", algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def privacy_request_send_code(*, privacy_request: PrivacyRequest, by: User | None) -> None:
    """Mail a one-time code to the address on file for the person (never to an address the
    requester just gave us: that would prove nothing)."""
    privacy_request = lock(privacy_request)
    customer = privacy_request.customer
    if customer is None or not customer.email:
        raise ValidationError(_("There is no address on file to send a code to."))
    _ensure_verifying(privacy_request, by)
    code = f"{secrets.randbelow(10**6):06d}"
    privacy_request.code_hash = _code_hash(privacy_request.pk, code)
    privacy_request.code_expires_at = timezone.now() + datetime.timedelta(
        minutes=settings.PRIVACY_CODE_TTL_MINUTES
    )
    privacy_request.code_attempts = 0
    privacy_request.save(
        update_fields=["code_hash", "code_expires_at", "code_attempts", "updated_at"]
    )
    event_add(privacy_request=privacy_request, step=Step.CODE_SENT, by=by)
    to, language = customer.email, privacy_request.language
    context = {
        "privacy_request": privacy_request,
        "code": code,
        "minutes": settings.PRIVACY_CODE_TTL_MINUTES,
        "settings": settings,
    }
    # Sent right after commit rather than by a task: the code must not sit in the broker.
    with translation.override(language):
        subject = render_to_string("privacy_requests/email/code_subject.txt", context).strip()
        body = render_to_string("privacy_requests/email/code.txt", context)
    transaction.on_commit(lambda: send_mail(subject=subject, message=body, from_email=None, to=to))


def privacy_request_check_code(
    *, privacy_request: PrivacyRequest, code: str, by: User | None
) -> PrivacyRequest:
    """Verify identity with the code; a wrong one counts against a small number of attempts."""
    error = None
    with transaction.atomic():
        privacy_request = lock(privacy_request)
        if privacy_request.status not in (Status.RECEIVED, Status.IDENTITY):
            raise ValidationError(_("This request is not waiting for identity verification."))
        if not privacy_request.code_hash:
            raise ValidationError(_("No code has been sent for this request, or it was used."))
        expired = privacy_request.code_expires_at <= timezone.now()
        too_many = privacy_request.code_attempts >= settings.PRIVACY_CODE_MAX_ATTEMPTS
        right = hmac.compare_digest(
            privacy_request.code_hash, _code_hash(privacy_request.pk, (code or "").strip())
        )
        if right and not expired and not too_many:
            return privacy_request_verify_identity(
                privacy_request=privacy_request, method=IdentityMethod.CODE, by=by
            )
        privacy_request.code_attempts += 1
        left = settings.PRIVACY_CODE_MAX_ATTEMPTS - privacy_request.code_attempts
        if expired or left <= 0:
            privacy_request.code_hash = ""  # a new code has to be sent
            error = _("The code has expired or was tried too often. Ask for a new code.")
        else:
            error = _("The code is wrong. %(left)d attempt(s) left.") % {"left": left}
        privacy_request.save(update_fields=["code_hash", "code_attempts", "updated_at"])
        event_add(privacy_request=privacy_request, step=Step.CODE_FAILED, by=by)
    raise ValidationError({"code": error})


# ------------------------------------------------------------------ fee


@transaction.atomic
def privacy_request_record_fee(
    *, privacy_request: PrivacyRequest, fee_status: str, by: User, note: str = ""
) -> PrivacyRequest:
    """Record the fee as received (e.g. registered cash mail) or waived."""
    privacy_request = lock(privacy_request)
    if privacy_request.fee_status != FeeStatus.PENDING:
        raise ValidationError(_("No fee is pending for this request."))
    if fee_status not in (FeeStatus.RECEIVED, FeeStatus.WAIVED):
        raise ValidationError({"fee_status": _("Record the fee as received or waived.")})
    if privacy_request.status not in (Status.RECEIVED, Status.IDENTITY, Status.FEE):
        raise ValidationError(_("The fee can no longer be recorded for this request."))
    privacy_request.fee_status = fee_status
    privacy_request.save(update_fields=["fee_status", "updated_at"])
    event_add(
        privacy_request=privacy_request,
        step=Step.FEE_RECORDED,
        by=by,
        note=" ".join(filter(None, [str(FeeStatus(fee_status).label), note.strip()])),
    )
    if privacy_request.status == Status.FEE:
        transition(privacy_request, Status.REVIEW, step=Step.IN_REVIEW, by=None)
    return privacy_request
