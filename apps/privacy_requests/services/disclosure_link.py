"""The electronic disclosure of a requester without a login (a guest who ordered, a person known
from an inquiry): they have no My Page to download it from.

The completion mail holds a link, ``/disclosure/<token>/``. The token is a capability for this one
purpose (opening this request's package page), made when that mail is sent (never in the broker,
never logged) and kept only as its SHA-256, so the database alone never holds a working link. It
works as long as the package does (``package_expires_at``). The link alone downloads nothing: the
page sends a one-time code to the address on file for the person (not to the address the request
came from), valid ``PRIVACY_CODE_TTL_MINUTES``, compared in constant time, spent after
``PRIVACY_CODE_MAX_ATTEMPTS`` wrong tries or one right one; the right code opens the download for
that browser's session only. A member downloads from My Page as before and gets no link.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from apps.core.mail import send_mail
from apps.privacy_requests.models import (
    DISCLOSURE_KINDS,
    DisclosureForm,
    PrivacyRequest,
    RequestEvent,
)
from apps.privacy_requests.services.workflow import event_add, lock

# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _code_hash(privacy_request_id: int, code: str) -> str:
    return salted_hmac(
        "privacy_requests.disclosure_link_code", f"{privacy_request_id}:{code}", algorithm="sha256"
    ).hexdigest()


def disclosure_link_needed(privacy_request: PrivacyRequest) -> bool:
    """An electronic disclosure, ready, for a person with no login to reach My Page."""
    customer = privacy_request.customer
    return bool(
        privacy_request.kind in DISCLOSURE_KINDS
        and privacy_request.disclosure_form == DisclosureForm.ELECTRONIC
        and privacy_request.package
        and customer is not None
        and customer.user_id is None
    )


def disclosure_link_issue(*, privacy_request: PrivacyRequest) -> str:
    """A new token for the request's link (called while its completion mail is written, the
    request locked); a second one replaces the first. Returns the token, to put in the mail."""
    token = secrets.token_urlsafe(32)
    privacy_request.link_token_hash = _hash(token)
    privacy_request.save(update_fields=["link_token_hash", "updated_at"])
    return token


def disclosure_link_get(*, token: str) -> PrivacyRequest | None:
    """The request whose link holds ``token``, while its package can still be downloaded."""
    if not TOKEN.fullmatch(token or ""):
        return None
    privacy_request = (
        PrivacyRequest.objects.select_related("customer")
        .filter(link_token_hash=_hash(token))
        .first()
    )
    if privacy_request is None or not disclosure_link_needed(privacy_request):
        return None
    if privacy_request.package_expires_at is None:
        return None
    if privacy_request.package_expires_at <= timezone.now():
        return None
    return privacy_request


@transaction.atomic
def disclosure_link_send_code(*, privacy_request: PrivacyRequest) -> None:
    """Mail a one-time code to the address on file for the person; a new code replaces the
    last and its attempts start again (the view's rate limit bounds how often)."""
    privacy_request = lock(privacy_request)
    customer = privacy_request.customer
    if customer is None or not customer.email:
        raise ValidationError(_("There is no address on file to send a code to."))
    code = f"{secrets.randbelow(10**6):06d}"
    privacy_request.link_code_hash = _code_hash(privacy_request.pk, code)
    privacy_request.link_code_expires_at = timezone.now() + datetime.timedelta(
        minutes=settings.PRIVACY_CODE_TTL_MINUTES
    )
    privacy_request.link_code_attempts = 0
    privacy_request.save(
        update_fields=[
            "link_code_hash",
            "link_code_expires_at",
            "link_code_attempts",
            "updated_at",
        ]
    )
    event_add(privacy_request=privacy_request, step=RequestEvent.Step.DOWNLOAD_CODE_SENT)
    to = customer.email
    context = {
        "privacy_request": privacy_request,
        "code": code,
        "minutes": settings.PRIVACY_CODE_TTL_MINUTES,
        "settings": settings,
    }
    # Sent right after commit rather than by a task: the code must not sit in the broker.
    with translation.override(privacy_request.language):
        subject = render_to_string("privacy_requests/email/link_code_subject.txt", context).strip()
        body = render_to_string("privacy_requests/email/link_code.txt", context)
    transaction.on_commit(lambda: send_mail(subject=subject, message=body, from_email=None, to=to))


def disclosure_link_check_code(*, privacy_request: PrivacyRequest, code: str) -> None:
    """Accept the right, unexpired code once; a wrong one counts against the attempts, and the
    last wrong one (or an expired code) spends it. Raises ValidationError on ``code``."""
    with transaction.atomic():
        privacy_request = lock(privacy_request)
        if not privacy_request.link_code_hash:
            raise ValidationError(
                {"code": _("No code has been sent for this link, or it was used. Ask for one.")}
            )
        expired = privacy_request.link_code_expires_at <= timezone.now()
        too_many = privacy_request.link_code_attempts >= settings.PRIVACY_CODE_MAX_ATTEMPTS
        right = hmac.compare_digest(
            privacy_request.link_code_hash,
            _code_hash(privacy_request.pk, (code or "").strip()),
        )
        if right and not expired and not too_many:
            privacy_request.link_code_hash = ""  # once
            privacy_request.save(update_fields=["link_code_hash", "updated_at"])
            event_add(privacy_request=privacy_request, step=RequestEvent.Step.DOWNLOAD_UNLOCKED)
            return
        privacy_request.link_code_attempts += 1
        left = settings.PRIVACY_CODE_MAX_ATTEMPTS - privacy_request.link_code_attempts
        if expired or left <= 0:
            privacy_request.link_code_hash = ""  # a new code has to be sent
            error = _("The code has expired or was tried too often. Ask for a new code.")
        else:
            error = _("The code is wrong. %(left)d attempt(s) left.") % {"left": left}
        privacy_request.save(update_fields=["link_code_hash", "link_code_attempts", "updated_at"])
        event_add(privacy_request=privacy_request, step=RequestEvent.Step.CODE_FAILED)
    raise ValidationError({"code": error})
