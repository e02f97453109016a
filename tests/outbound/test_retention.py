"""Retention of what the integration app keeps: a given-up webhook's body, one-time privacy
links, the Shopify ids a privacy webhook named, a client's time for a purged ledger event. Each
rule keeps its rows one day inside its limit and acts the day after."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from apps.consents.models import ConsentEvent, Purpose
from apps.consents.services import consent_grant
from apps.core.services import retention_run
from apps.integration.models import (
    ApiClient,
    ExternalConsentEvent,
    PrivacyLink,
    ShopifyWebhook,
    WebhookDelivery,
)
from apps.integration.privacy_link import privacy_link_issue
from tests.factories import CustomerFactory
from tests.outbound.conftest import make_storefront

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2030, 6, 15)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def given_up(endpoint, *, last_attempt: datetime.date) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        msg_id=f"msg_{uuid.uuid4().hex}",
        event_type="customer.corrected",
        customer_id=1,
        occurred_at=at(last_attempt),
        payload='{"data": {"changes": {"family_name": "新しい姓"}}}',
        status=WebhookDelivery.Status.GIVEN_UP,
        attempts=6,
        next_attempt_at=at(last_attempt),
        last_attempt_at=at(last_attempt),
    )


def test_a_given_up_body_is_kept_for_resending_then_dropped(settings, loopback_allowed):
    settings.WEBHOOK_GIVEN_UP_KEEP_DAYS = 30
    endpoint, _secret = make_storefront("http://127.0.0.1:9/hook")
    limit = TODAY - datetime.timedelta(days=30)
    kept = given_up(endpoint, last_attempt=limit)
    gone = given_up(endpoint, last_attempt=limit - datetime.timedelta(days=1))

    assert retention_run(today=TODAY)["webhook_given_up_bodies"] == 1
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert kept.payload and gone.payload is None
    assert gone.status == WebhookDelivery.Status.GIVEN_UP and gone.attempts == 6  # the log stays
    assert retention_run(today=TODAY)["webhook_given_up_bodies"] == 0


def test_privacy_links_go_the_day_after_they_expired():
    client = ApiClient.objects.create(name="Storefront", system=ApiClient.System.STOREFRONT)
    expired = privacy_link_issue(client=client, customer=CustomerFactory())
    live = privacy_link_issue(client=client, customer=CustomerFactory())
    PrivacyLink.objects.filter(pk=expired.pk).update(expires_at=at(TODAY - datetime.timedelta(1)))
    PrivacyLink.objects.filter(pk=live.pk).update(expires_at=at(TODAY))

    assert retention_run(today=TODAY)["privacy_links"] == 1
    assert list(PrivacyLink.objects.values_list("pk", flat=True)) == [live.pk]


def test_shopify_ids_go_after_the_keeping_period_and_the_row_stays(settings):
    settings.SHOPIFY_WEBHOOK_IDS_KEEP_DAYS = 30
    client = ApiClient.objects.create(name="Shopify", system=ApiClient.System.SHOPIFY)
    limit = TODAY - datetime.timedelta(days=30)

    def webhook(processed: datetime.date, webhook_id: str) -> ShopifyWebhook:
        return ShopifyWebhook.objects.create(
            client=client,
            topic=ShopifyWebhook.Topic.CUSTOMER_REDACT,
            webhook_id=webhook_id,
            shopify_customer_id="7451234",
            order_ids=[1001, 1002],
            state=ShopifyWebhook.State.FILED,
            processed_at=at(processed),
        )

    kept = webhook(limit, "w-kept")
    old = webhook(limit - datetime.timedelta(days=1), "w-old")

    assert retention_run(today=TODAY)["shopify_webhook_ids"] == 1
    kept.refresh_from_db()
    old.refresh_from_db()
    assert (kept.shopify_customer_id, kept.order_ids) == ("7451234", [1001, 1002])
    assert (old.shopify_customer_id, old.order_ids) == ("", [])
    assert old.topic == ShopifyWebhook.Topic.CUSTOMER_REDACT and old.state == "filed"


def test_a_client_s_time_goes_with_its_purged_ledger_event():
    from apps.consents.services.ledger import consent_events_purge

    client = ApiClient.objects.create(name="Storefront", system=ApiClient.System.STOREFRONT)
    purpose = Purpose.objects.get(code="remarketing")
    customer = CustomerFactory()
    # Two grants: the older no longer decides the current state, so the ledger may purge it.
    events = [consent_grant(purpose=purpose, source="mypage", customer=customer) for _ in range(2)]
    for event in events:
        ExternalConsentEvent.objects.create(event=event, client=client, occurred_at=timezone.now())
    assert consent_events_purge(event_ids=[events[0].pk]) == 1  # the ledger's own statement

    assert retention_run(today=TODAY)["external_consent_orphans"] == 1
    assert list(ExternalConsentEvent.objects.values_list("event_id", flat=True)) == [events[1].pk]
    assert ConsentEvent.objects.filter(pk=events[1].pk).exists()
