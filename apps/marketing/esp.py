"""The mail provider's reports (django-anymail tracking webhooks) reach the suppression list.

Anymail verifies each webhook by its own scheme (the basic-auth WEBHOOK_SECRET for all, plus
Mailgun's HMAC signature and SendGrid's signed event webhook where configured) and turns the
provider's payload into a normalised `tracking` event. This receiver decides what the event
means for us and hands it to one service (suppression.delivery_feedback_record):

- a complaint (spam report) and a hard bounce suppress the address and mark the delivery;
- a soft bounce marks the delivery and suppresses nothing (the provider retries it); deferrals,
  deliveries, opens and clicks change nothing.

Anymail's `bounced` also covers soft bounces for some providers (Amazon SES, Postmark, Brevo,
SendGrid's "blocked"), so "hard" is read from each provider's own field.

The delivery is found by the Message-ID the pipeline gave the mail (`<c{campaign}.d{delivery}@
domain>`), wherever the provider reports it: anymail's `message_id` (Mailgun and Brevo report
the Message-ID header; Postmark and SendGrid report it when the `anymail_id` metadata is set),
any metadata value, Amazon SES's `mail.commonHeaders.messageId` and original headers, SendGrid's
`smtp-id`. A report for any other message (a notice, someone else's mail) is accepted and
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.dispatch import receiver

from apps.marketing.models import Delivery
from apps.marketing.suppression import delivery_feedback_record


def _raw(event: AnymailTrackingEvent) -> Mapping:
    return event.esp_event if isinstance(event.esp_event, Mapping) else {}


def _hard_bounce(esp_name: str, raw: Mapping) -> bool:
    """Whether the provider says the address itself is bad (a permanent failure). Anything it
    does not say so of counts as soft: suppressing a good address by mistake loses a reader."""
    if esp_name == "Amazon SES":
        return (raw.get("bounce") or {}).get("bounceType") == "Permanent"
    if esp_name == "Postmark":
        return raw.get("Type") == "HardBounce"
    if esp_name == "SendGrid":
        # "bounce" is permanent; "blocked" is a temporary refusal by the receiving server.
        return raw.get("event") == "bounce" and raw.get("type", "bounce") == "bounce"
    if esp_name in ("Brevo", "SendinBlue"):
        return raw.get("event") in ("hard_bounce", "invalid_email")
    if esp_name == "Mailgun":
        event_data = raw.get("event-data")
        if isinstance(event_data, Mapping):
            return event_data.get("severity") == "permanent"
        return raw.get("event") == "bounced"  # legacy webhooks: "bounced" is permanent
    return False


def feedback_of(event: AnymailTrackingEvent, esp_name: str) -> str | None:
    if event.event_type == EventType.COMPLAINED:
        return Delivery.Feedback.COMPLAINED
    if event.event_type == EventType.BOUNCED:
        if _hard_bounce(esp_name, _raw(event)):
            return Delivery.Feedback.BOUNCED
        return Delivery.Feedback.SOFT_BOUNCED
    return None


def message_ids_of(event: AnymailTrackingEvent, esp_name: str) -> list[str]:
    raw = _raw(event)
    candidates = [event.message_id]
    candidates += list((event.metadata or {}).values())
    if esp_name == "Amazon SES":
        mail = raw.get("mail") or {}
        candidates.append((mail.get("commonHeaders") or {}).get("messageId"))
        candidates += [
            header.get("value")
            for header in mail.get("headers") or []
            if str(header.get("name", "")).lower() == "message-id"
        ]
    elif esp_name == "SendGrid":
        candidates.append(raw.get("smtp-id"))
    return list(dict.fromkeys(c for c in candidates if isinstance(c, str) and c))


@receiver(tracking, dispatch_uid="marketing.esp_tracking")
def esp_tracking_received(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    feedback = feedback_of(event, esp_name)
    if feedback is None:
        return
    # An error here answers 500, and the provider sends the report again later.
    delivery_feedback_record(
        message_ids=message_ids_of(event, esp_name),
        feedback=feedback,
        recipient=event.recipient or "",
        source=esp_name,
    )
