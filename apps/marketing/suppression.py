"""Writes that feed the suppression list from outside the sending pipeline: what the mail
provider reports after the hand-over (a hard bounce, a spam complaint: esp.py turns the
provider's webhook into a call here), and an address typed in by staff.

Only keyed hashes are stored: neither path keeps the address itself, nor logs it.
"""

from __future__ import annotations

import contextlib
import logging
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.marketing.models import Delivery, SuppressedAddress
from apps.marketing.selectors import address_hash
from apps.marketing.services import suppression_add

logger = logging.getLogger(__name__)

# The Message-ID every campaign mail carries (mail.PreparedCampaign.render).
CAMPAIGN_MESSAGE_ID = re.compile(
    r"<?c(?P<campaign>\d{1,18})\.d(?P<delivery>\d{1,18})@(?P<domain>[^<>\s]+?)>?"
)

# A report never replaces a heavier one already recorded (a soft bounce after a complaint):
# Feedback's values are in rising order of weight.
_LIGHTER = {
    value: Delivery.Feedback.values[:rank] for rank, value in enumerate(Delivery.Feedback.values)
}

# What each report adds to the suppression list (soft bounces add nothing: they retry).
_SUPPRESSES = {
    Delivery.Feedback.BOUNCED: SuppressedAddress.Reason.BOUNCED,
    Delivery.Feedback.COMPLAINED: SuppressedAddress.Reason.COMPLAINED,
}

# Reasons staff may give by hand: an erasure goes through a privacy request, never by hand.
MANUAL_REASONS = [
    SuppressedAddress.Reason.UNSUBSCRIBED,
    SuppressedAddress.Reason.BOUNCED,
    SuppressedAddress.Reason.COMPLAINED,
]


class FeedbackOutcome:
    UNKNOWN_MESSAGE = "unknown_message"  # not one of our campaign mails: ignored
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # already recorded (a replay) or lighter than what is


def _normalise_reported(address: str) -> str:
    """The address as our forms store it: a provider reports an internationalised domain in
    its ASCII (IDNA) form, which would hash differently from the one typed at signup."""
    local, at, domain = (address or "").strip().rpartition("@")
    if at and "xn--" in domain.lower():
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("ascii").decode("idna")
    return f"{local}{at}{domain}"


def _find_delivery(message_ids: list[str]) -> tuple[Delivery, str] | None:
    """The delivery one of these Message-IDs names. Our Message-ID names the campaign,
    the delivery and the sender's domain; a row counts only if that mail went out: its recorded
    Message-ID is this one, or it is still being recorded (sending) or was lost mid-send
    (unknown), in which case nothing is recorded yet."""
    for candidate in message_ids:
        match = CAMPAIGN_MESSAGE_ID.fullmatch((candidate or "").strip())
        if match is None:
            continue
        message_id = f"<c{match['campaign']}.d{match['delivery']}@{match['domain']}>"
        delivery = (
            Delivery.objects.select_related("subscription", "campaign__magazine")
            .filter(pk=int(match["delivery"]), campaign_id=int(match["campaign"]))
            .first()
        )
        if delivery is None:
            continue
        if delivery.campaign.magazine.from_email.rsplit("@", 1)[-1].lower() != (
            match["domain"].lower()
        ):
            continue
        in_flight = delivery.status in (Delivery.Status.SENDING, Delivery.Status.UNKNOWN)
        if delivery.message_id == message_id or (in_flight and not delivery.message_id):
            return delivery, message_id
    return None


@transaction.atomic
def delivery_feedback_record(
    *, message_ids: list[str], feedback: str, recipient: str = "", source: str = ""
) -> str:
    """Record what the mail provider reported about one of our campaign mails: mark its
    delivery, and put a hard bounce's or a complaint's address on the suppression list (for
    every magazine). A Message-ID that is not one of ours changes nothing. Idempotent: the same
    report twice changes nothing more.

    The address suppressed is the one the provider reports (it is the one that bounced), else
    the one the subscription was confirmed for."""
    found = _find_delivery(message_ids)
    if found is None:
        logger.info("esp feedback for an unknown message ignored source=%s", source)
        return FeedbackOutcome.UNKNOWN_MESSAGE
    delivery, _message_id = found
    changed = False
    # The suppression row first, then the delivery row: the order an erasure writes them in
    # (marketing/privacy.py), so the two never wait on each other in a circle.
    reason = _SUPPRESSES.get(feedback)
    if reason:
        if recipient:
            hashed = address_hash(_normalise_reported(recipient))
        elif delivery.subscription is not None:
            hashed = delivery.subscription.email_hash
        else:
            hashed = ""
        if hashed:
            changed = suppression_add(reason=reason, hashed=hashed)
    # One conditional UPDATE: a replay, or a lighter report than the one recorded, matches
    # nothing, also when two reports arrive at once.
    marked = Delivery.objects.filter(pk=delivery.pk, feedback__in=_LIGHTER[feedback]).update(
        feedback=feedback, feedback_at=timezone.now()
    )
    changed = changed or bool(marked)
    logger.info(
        "esp feedback source=%s delivery_id=%s feedback=%s changed=%s",
        source,
        delivery.pk,
        feedback,
        changed,
    )
    return FeedbackOutcome.RECORDED if changed else FeedbackOutcome.UNCHANGED


def _clean_address(address: str) -> str:
    address = (address or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            _("Enter a valid e-mail address (like name@example.com)."), code="invalid"
        ) from None
    return address


@transaction.atomic
def suppression_add_by_hand(*, address: str, reason: str, by=None) -> bool:
    """Staff put an address on the suppression list (every magazine), e.g. after a complaint
    by phone. Only its keyed hash is stored. True if it was not on the list yet."""
    if reason not in MANUAL_REASONS:
        raise ValidationError(_("Choose a reason from the list."), code="invalid_reason")
    added = suppression_add(reason=reason, address=_clean_address(address))
    logger.info(
        "suppression added by hand user_id=%s reason=%s new=%s",
        getattr(by, "pk", None),
        reason,
        added,
    )
    return added
