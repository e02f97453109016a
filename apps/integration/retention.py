"""Retention rules for the integration app (registered with apps.core.retention).

- ``api_idempotency``: the first answer to a POST is kept for at least a day so a storefront's
  retry gets it again; past that a retry is a new request (what Stripe does), so the rows go.
- ``webhook_given_up_bodies``: a delivery given up keeps its body (it may hold a correction's new
  values) for ``WEBHOOK_GIVEN_UP_KEEP_DAYS`` after its last attempt so staff can resend it; then
  the body goes, as a delivered one's does at once.
- ``privacy_links``: one-time links to the privacy center go the day after they expired.
- ``shopify_webhook_ids``: Shopify's privacy webhooks keep the Shopify customer and order ids
  they named for ``SHOPIFY_WEBHOOK_IDS_KEEP_DAYS`` after they were handled, then those go.
- ``external_consent_orphans``: a client's time for a ledger event goes with the event (the
  ledger's own retention deletes events with a statement of its own).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from apps.consents.models import ConsentEvent
from apps.core.dates import start_of_day
from apps.core.retention import register
from apps.integration.models import (
    ExternalConsentEvent,
    IdempotencyRecord,
    PrivacyLink,
    ShopifyWebhook,
    WebhookDelivery,
)


def _apply(queryset, *, dry_run: bool, update: dict | None = None) -> int:
    if dry_run:
        return queryset.count()
    if update is not None:
        return queryset.update(**update)
    deleted, _ = queryset.delete()
    return deleted


def purge_idempotency_records(*, today: datetime.date, dry_run: bool = False) -> int:
    old = IdempotencyRecord.objects.filter(
        created_at__lt=start_of_day(today - datetime.timedelta(days=1))
    )
    return _apply(old, dry_run=dry_run)


def drop_given_up_bodies(*, today: datetime.date, dry_run: bool = False) -> int:
    before = start_of_day(today - datetime.timedelta(days=settings.WEBHOOK_GIVEN_UP_KEEP_DAYS))
    old = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.GIVEN_UP, payload__isnull=False, last_attempt_at__lt=before
    )
    return _apply(old, dry_run=dry_run, update={"payload": None})


def purge_privacy_links(*, today: datetime.date, dry_run: bool = False) -> int:
    return _apply(PrivacyLink.objects.filter(expires_at__lt=start_of_day(today)), dry_run=dry_run)


def drop_shopify_webhook_ids(*, today: datetime.date, dry_run: bool = False) -> int:
    before = start_of_day(today - datetime.timedelta(days=settings.SHOPIFY_WEBHOOK_IDS_KEEP_DAYS))
    old = ShopifyWebhook.objects.filter(processed_at__lt=before).exclude(
        shopify_customer_id="", order_ids=[]
    )
    return _apply(old, dry_run=dry_run, update={"shopify_customer_id": "", "order_ids": []})


def purge_external_consent_orphans(*, today: datetime.date, dry_run: bool = False) -> int:
    orphans = ExternalConsentEvent.objects.filter(
        ~Exists(ConsentEvent.objects.filter(pk=OuterRef("event_id")))
    )
    return _apply(orphans, dry_run=dry_run)


register(
    "api_idempotency",
    description="Delete the stored first answers to API calls after a day.",
    apply=purge_idempotency_records,
    order=200,
)
register(
    "webhook_given_up_bodies",
    description="Drop the body of a given-up webhook delivery WEBHOOK_GIVEN_UP_KEEP_DAYS after "
    "its last attempt.",
    apply=drop_given_up_bodies,
    order=201,
    notice=lambda: (
        _(
            "Messages to the other systems that hold a copy of your data (our storefront, mail "
            "and delivery providers): their content is deleted once delivered, or %(days)s days "
            "after delivery was given up; the log keeps ids and states only."
        )
        % {"days": settings.WEBHOOK_GIVEN_UP_KEEP_DAYS}
    ),
)
register(
    "privacy_links",
    description="Delete one-time privacy-center links the day after they expired.",
    apply=purge_privacy_links,
    order=202,
    notice=lambda: _("One-time links to your privacy settings: deleted the day after they expire."),
)
register(
    "shopify_webhook_ids",
    description="Clear the Shopify ids a privacy webhook named SHOPIFY_WEBHOOK_IDS_KEEP_DAYS "
    "after it was handled.",
    apply=drop_shopify_webhook_ids,
    order=203,
    notice=lambda: (
        _(
            "Privacy requests passed on by Shopify: the Shopify ids they named are deleted "
            "%(days)s days after we handled them."
        )
        % {"days": settings.SHOPIFY_WEBHOOK_IDS_KEEP_DAYS}
    ),
)
register(
    "external_consent_orphans",
    description="Delete a client's time for a consent event the ledger's retention deleted.",
    apply=purge_external_consent_orphans,
    order=204,
)
