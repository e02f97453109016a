"""Notices to the requester at receipt, decision, extension and completion, each sent exactly
once: e-mailed by a task, or, for a requester without an e-mail address, printed as a letter
that staff mark posted."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from apps.core.completion import request_informed
from apps.core.mail import send_mail
from apps.core.privacy import erasure_label
from apps.customers.selectors import customer_is_erased
from apps.privacy_requests.models import (
    CLOSED_STATUSES,
    Notice,
    PrivacyRequest,
    RequestEvent,
)
from apps.privacy_requests.services.corrections import change_label
from apps.privacy_requests.services.disclosure_link import (
    disclosure_link_issue,
    disclosure_link_needed,
)
from apps.privacy_requests.services.workflow import event_add

if TYPE_CHECKING:
    from apps.customers.models import User

logger = logging.getLogger(__name__)

CONTACT_FIELDS = (
    "requester_name",
    "requester_email",
    "requester_postal_address",
    "representative_name",
)


def model_label(label: str) -> str:
    """What an eraser counted ("app.Model") as people read it: the words its app registered
    (apps.core.privacy.erasure_label)."""
    return erasure_label(label)


def _email_pending(privacy_request: PrivacyRequest) -> bool:
    """A member's corrected address becomes their login only once they open the link sent to
    it (apps/customers/services.py), so the completion notice says so instead of "changed"."""
    requested = (privacy_request.requested_changes or {}).get("email")
    customer = privacy_request.customer
    return bool(
        requested
        and "email" not in (privacy_request.applied_changes or {})
        and customer is not None
        and customer.user_id
        and requested.lower() != (customer.email or "").lower()
    )


def notice_context(privacy_request: PrivacyRequest) -> dict:
    report = privacy_request.erasure_report or {}
    return {
        "privacy_request": privacy_request,
        "email_pending": _email_pending(privacy_request),
        "settings": settings,
        # The other systems told of it (apps/core/completion.py: the apps that gate completion).
        "informed": request_informed(request_id=privacy_request.pk),
        "changes": [
            {"field": change_label(name), "old": old, "new": new}
            for name, (old, new) in sorted(privacy_request.applied_changes.items())
        ],
        "deleted": [
            {"what": model_label(label), "count": count}
            for label, count in sorted(report.get("deleted", {}).items())
            if count
        ],
        "anonymised": [
            {"what": model_label(label), "count": count}
            for label, count in sorted(report.get("anonymised", {}).items())
            if count
        ],
        "kept": [
            # Erasers give their reasons in English, marked for translation (gettext_noop).
            {"what": model_label(label), "count": count, "why": gettext(why), "until": until}
            for label, (count, why, until) in sorted(report.get("kept", {}).items())
            if count
        ],
    }


def notice_render(
    notice: Notice, *, letter: bool = False, disclosure_link: str = ""
) -> tuple[str, str]:
    """Subject and text of a notice, in the requester's language; `letter`: for paper (no
    e-mail signature line); `disclosure_link`: the download link of a requester without a
    login (made only as the mail is sent: services/disclosure_link.py)."""
    template = f"privacy_requests/email/{notice.kind}"
    with translation.override(notice.privacy_request.language):
        context = {
            **notice_context(notice.privacy_request),
            "letter": letter,
            "disclosure_link": disclosure_link,
        }
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    return subject, body


def _locked(notice_id: int) -> Notice | None:
    return (
        Notice.objects.select_for_update()
        .select_related("privacy_request")
        .filter(pk=notice_id)
        .first()
    )


def notice_send(*, notice_id: int) -> bool:
    """Send one notice, once. Returns False when it was already sent (or cannot be)."""
    with transaction.atomic():
        notice = _locked(notice_id)
        if notice is None or notice.sent_at is not None:
            return False
        privacy_request = notice.privacy_request
        if not privacy_request.requester_email:
            return False
        link = ""
        if notice.kind == Notice.Kind.COMPLETION and disclosure_link_needed(privacy_request):
            token = disclosure_link_issue(privacy_request=privacy_request)
            link = settings.SITE_URL.rstrip("/") + reverse(
                "privacy_disclosure:open", kwargs={"token": token}
            )
        subject, body = notice_render(notice, disclosure_link=link)
        send_mail(
            subject=subject,
            message=body,
            from_email=None,
            to=privacy_request.requester_email,
        )
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
        event_add(
            privacy_request=privacy_request,
            step=RequestEvent.Step.NOTICE_SENT,
            note=Notice.Kind(notice.kind).label,
        )
        contact_erase_if_done(privacy_request=privacy_request)
    logger.info("privacy notice sent notice_id=%s kind=%s", notice_id, notice.kind)
    return True


def notice_mark_posted(*, notice_id: int, by: User) -> bool:
    """Staff posted the letter of a notice to a requester without an e-mail address. Returns
    False when it was already marked (or sent)."""
    with transaction.atomic():
        notice = _locked(notice_id)
        if notice is None or notice.sent_at is not None:
            return False
        privacy_request = notice.privacy_request
        if privacy_request.requester_email:
            raise ValidationError(_("This notice is e-mailed to the requester, not posted."))
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
        event_add(
            privacy_request=privacy_request,
            step=RequestEvent.Step.NOTICE_POSTED,
            by=by,
            note=Notice.Kind(notice.kind).label,
        )
        contact_erase_if_done(privacy_request=privacy_request)
    logger.info("privacy notice posted notice_id=%s kind=%s", notice_id, notice.kind)
    return True


def contact_erase_if_done(*, privacy_request: PrivacyRequest, give_up: bool = False) -> bool:
    """Once the person is erased and every notice has gone out, the requester's contact
    details go too: nothing remains to be sent. With `give_up` (the daily purge, long after
    closing) they go even if a notice never could be sent, and the timeline says how many."""
    privacy_request = PrivacyRequest.objects.select_for_update().get(pk=privacy_request.pk)
    if privacy_request.contact_erased_at is not None:
        return False
    if privacy_request.status not in CLOSED_STATUSES:
        return False
    customer = privacy_request.customer
    if customer is None or not customer_is_erased(customer=customer):
        return False
    undelivered = privacy_request.notices.filter(sent_at=None).count()
    if undelivered and not give_up:
        return False
    for name in CONTACT_FIELDS:
        setattr(privacy_request, name, "")
    privacy_request.contact_erased_at = timezone.now()
    privacy_request.save(update_fields=[*CONTACT_FIELDS, "contact_erased_at", "updated_at"])
    event_add(
        privacy_request=privacy_request,
        step=RequestEvent.Step.CONTACT_ERASED,
        note=f"undelivered notices: {undelivered}" if undelivered else "",
    )
    return True
