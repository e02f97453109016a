"""Writes on the register of systems' webhook endpoints and on deliveries: an endpoint created
with its first secret, a secret rotated, an endpoint enabled or disabled, a delivery retried now
or replayed, the privacy officer told of a disabled endpoint. Each is one transaction; the log
gets ids only."""

from __future__ import annotations

import datetime
import ipaddress
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.mail import send_mail
from apps.core.roles import PRIVACY_OFFICER
from apps.integration.outbound import hub
from apps.integration.outbound.models import (
    DownstreamSystem,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)
from apps.integration.outbound.signing import secret_generate
from apps.integration.outbound.tasks import send_on_commit

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
LOOPBACK_HOSTS = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_url_validate(url: str) -> None:
    """https, always in production; plain http only to this machine (127.0.0.1, ::1,
    localhost) and only with DEBUG or WEBHOOK_ALLOW_HTTP_LOOPBACK (tests, the benchmark)."""
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError(_("Enter the full URL of the receiving endpoint."))
    if parts.username or parts.password:
        raise ValidationError(_("Put no user name or password in the URL: requests are signed."))
    if parts.scheme == "https":
        return
    loopback_allowed = settings.DEBUG or settings.WEBHOOK_ALLOW_HTTP_LOOPBACK
    if parts.scheme == "http" and loopback_allowed and _is_loopback(host):
        return
    raise ValidationError(_("The endpoint must use https:// (the body is personal data)."))


def event_types_validate(event_types: list[str]) -> None:
    unknown = set(event_types) - set(EventType.values)
    if unknown:
        raise ValidationError(_("Unknown event type: %(types)s") % {"types": ", ".join(unknown)})


@transaction.atomic
def webhook_endpoint_create(
    *, system: DownstreamSystem, url: str, event_types: list[str]
) -> tuple[WebhookEndpoint, str]:
    """The endpoint of a webhook system, with its first signing secret, returned once."""
    if system.reached_by != DownstreamSystem.Reach.WEBHOOK:
        raise ValidationError(_("This system is reached by manual tasks, not by a webhook."))
    if WebhookEndpoint.objects.filter(system=system).exists():
        raise ValidationError(_("This system has its endpoint already."))
    endpoint_url_validate(url)
    event_types_validate(event_types)
    endpoint = WebhookEndpoint.objects.create(system=system, url=url, event_types=event_types)
    secret = secret_generate()
    WebhookSecret.objects.create(endpoint=endpoint, secret=secret)
    logger.info("webhook endpoint created endpoint_id=%s system_id=%s", endpoint.pk, system.pk)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, event_types: list[str]
) -> WebhookEndpoint:
    endpoint_url_validate(url)
    event_types_validate(event_types)
    endpoint.url, endpoint.event_types = url, event_types
    endpoint.save(update_fields=["url", "event_types"])
    logger.info("webhook endpoint changed endpoint_id=%s", endpoint.pk)
    return endpoint


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint, by_user_id: int | None = None) -> str:
    """A new secret, returned once. The endpoint's secrets in force keep signing beside it for
    WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS (a secret already ending sooner keeps its end)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    ends = now + datetime.timedelta(hours=settings.WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS)
    WebhookSecret.objects.filter(endpoint=endpoint, expires_at__isnull=True).update(expires_at=ends)
    WebhookSecret.objects.filter(endpoint=endpoint, expires_at__gt=ends).update(expires_at=ends)
    # Secrets that stopped signing are of no use to anyone: not kept.
    WebhookSecret.objects.filter(endpoint=endpoint, expires_at__lte=now).delete()
    secret = secret_generate()
    WebhookSecret.objects.create(endpoint=endpoint, secret=secret, created_at=now)
    logger.info("webhook secret rotated endpoint_id=%s by_user_id=%s", endpoint.pk, by_user_id)
    return secret


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Sending starts again, with the deliveries that waited while it was disabled."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.enabled:
        raise ValidationError(_("This endpoint is enabled already."))
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, "", None
    endpoint.failing_since = None
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at", "failing_since"])
    WebhookDelivery.objects.filter(
        endpoint=endpoint, status__in=[Status.PENDING, Status.FAILED]
    ).update(next_attempt_at=timezone.now())
    send_on_commit(endpoint.pk)
    logger.info("webhook endpoint enabled endpoint_id=%s", endpoint.pk)
    return endpoint


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    """Sending stops; new events still get their rows, sent once it is enabled again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the endpoint is disabled."))
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.enabled, endpoint.disabled_reason = False, reason[:200]
    endpoint.disabled_at = timezone.now()
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
    logger.info("webhook endpoint disabled by staff endpoint_id=%s", endpoint.pk)
    return endpoint


@transaction.atomic
def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Staff's "retry now": due at once; a given-up delivery starts a fresh series."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == Status.DELIVERED:
        raise ValidationError(_("Delivered already: replay it to send it again."))
    if delivery.status == Status.DELIVERING and delivery.next_attempt_at > timezone.now():
        raise ValidationError(_("It is being sent right now."))
    if delivery.payload is None:
        raise ValidationError(_("Its body was dropped: replay it instead."))
    if delivery.status == Status.GIVEN_UP:
        delivery.attempts = 0
    delivery.status = Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    send_on_commit(delivery.endpoint_id)
    return delivery


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the event to the endpoint again as a new delivery (a new ``webhook-id``, the same
    event id in the body). A delivered body is rebuilt from the ids and states the log kept, with
    the person's current external ids; a correction's values are not kept, so it cannot be."""
    endpoint = delivery.endpoint
    if delivery.payload is None and delivery.event_type == EventType.CUSTOMER_CORRECTED:
        raise ValidationError(
            _("A delivered correction cannot be replayed: its values are no longer kept.")
        )
    payload = delivery.payload
    if payload is None:
        client_id = endpoint.system.api_client_id
        external = hub.external_ids_for(
            customer_id=delivery.customer_id, client_ids=[client_id] if client_id else []
        )
        payload = hub.body_for(
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            occurred_at=delivery.occurred_at,
            customer_id=delivery.customer_id,
            external_ids=external.get(client_id),
            data=delivery.data,
        )
    now = timezone.now()
    replay = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=delivery.event_id,
        msg_id=hub.new_msg_id(),
        event_type=delivery.event_type,
        customer_id=delivery.customer_id,
        occurred_at=delivery.occurred_at,
        data=delivery.data,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
        replay_of=delivery,
    )
    if endpoint.enabled:
        send_on_commit(endpoint.pk)
    logger.info("webhook delivery replayed delivery_id=%s replay_id=%s", delivery.pk, replay.pk)
    return replay


def privacy_officer_addresses() -> list[str]:
    if settings.SHOP_PRIVACY_OFFICER_EMAIL:
        return [settings.SHOP_PRIVACY_OFFICER_EMAIL]
    group = Group.objects.filter(name=PRIVACY_OFFICER).first()
    if group is None:
        return []
    return sorted(
        {
            email
            for email in group.user_set.filter(is_active=True, is_staff=True).values_list(
                "email", flat=True
            )
            if email
        }
    )


def webhook_endpoint_disabled_notify(*, endpoint_id: int) -> int:
    """Mail the privacy officer that an endpoint was disabled (what, why, where to look);
    returns how many mails were sent. Nothing about any person is in it."""
    endpoint = WebhookEndpoint.objects.select_related("system").get(pk=endpoint_id)
    if endpoint.enabled:
        return 0  # enabled again meanwhile
    waiting = WebhookDelivery.objects.filter(
        endpoint=endpoint, status__in=[Status.PENDING, Status.FAILED, Status.GIVEN_UP]
    ).count()
    link = settings.SITE_URL.rstrip("/") + reverse(
        "admin:integration_webhookendpoint_change", args=[endpoint.pk]
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Webhook endpoint disabled: %(system)s") % {"system": endpoint.system.name}
        message = _(
            "The webhook endpoint of %(system)s was disabled: %(reason)s.\n\n"
            "Deliveries not yet accepted: %(waiting)s. They are kept and sent once the endpoint "
            "is enabled again. Until then, changes (consent withdrawals, unsubscribes) do not "
            "reach this system: check it and enable the endpoint in the admin:\n%(link)s\n"
        ) % {
            "system": endpoint.system.name,
            "reason": endpoint.disabled_reason,
            "waiting": waiting,
            "link": link,
        }
        for address in privacy_officer_addresses():
            send_mail(subject=subject, message=message, from_email=None, to=address)
            sent += 1
    logger.info("webhook endpoint disabled mail endpoint_id=%s mails=%s", endpoint_id, sent)
    return sent
