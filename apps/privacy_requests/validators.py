"""Validation of uploads and of dates on representatives' documents."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.core.dates import add_months

# Detected from the first bytes of the content, never from the name or the browser's claim.
MAGIC = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
EXTENSIONS = {content_type: ext for _, content_type, ext in MAGIC}


def max_upload_bytes() -> int:
    return settings.PRIVACY_UPLOAD_MAX_BYTES


def detect_content_type(head: bytes) -> str | None:
    for magic, content_type, _ext in MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def validate_upload(upload) -> str:
    """Check an uploaded file's size and real type; return its content type."""
    limit = max_upload_bytes()
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("The file is too large: at most %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = detect_content_type(head)
    if content_type is None:
        raise ValidationError(
            _("Upload a PDF, JPEG or PNG file (this file is none of them)."), code="wrong_type"
        )
    return content_type


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier, clamped to the month's end (31 May - 3 months = 28/29 Feb)."""
    return add_months(day, -months)


SEAL_CERTIFICATE_MAX_AGE_MONTHS = 3


def validate_seal_certificate_date(issued_on: datetime.date | None, *, on: datetime.date) -> None:
    """A seal registration certificate must be issued within the three months before `on`."""
    if issued_on is None:
        raise ValidationError(
            _("Enter the issue date of the seal registration certificate."), code="required"
        )
    if issued_on > on:
        raise ValidationError(_("The issue date cannot be in the future."), code="future")
    earliest = months_before(on, SEAL_CERTIFICATE_MAX_AGE_MONTHS)
    if issued_on < earliest:
        raise ValidationError(
            _(
                "The seal registration certificate must have been issued within the last three "
                "months (on or after %(date)s)."
            )
            % {"date": earliest.isoformat()},
            code="too_old",
        )
