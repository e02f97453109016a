"""The register's admin: the privacy officer (not support, not marketing) manages systems and
endpoints; a new endpoint's secret is shown once; a plain-http URL is refused; the delivery log
shows no body; retry and replay are one service call each."""

import pytest
from django.urls import reverse

from apps.core import roles
from apps.core.events import event_publish
from apps.integration.outbound.delivery import deliveries_send
from apps.integration.outbound.models import DownstreamSystem, WebhookDelivery, WebhookEndpoint
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client):
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    return client


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.MARKETING])
def test_support_and_marketing_cannot_open_the_register(client, role):
    client.force_login(make_staff(role))
    for name in ("downstreamsystem", "webhookendpoint", "webhookdelivery"):
        assert client.get(reverse(f"admin:integration_{name}_changelist")).status_code == 403


def test_the_officer_registers_a_system_and_sees_its_secret_once(officer_client, settings):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    response = officer_client.post(
        reverse("admin:integration_downstreamsystem_add"),
        {
            "name": "Mail provider",
            "kind": "mail_provider",
            "data_categories": ["contact", "consents"],
            "reached_by": "webhook",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content
    system = DownstreamSystem.objects.get()
    assert system.data_categories == ["contact", "consents"]

    add = reverse("admin:integration_webhookendpoint_add")
    refused = officer_client.post(
        add,
        {
            "system": system.pk,
            "url": "http://mail.example.com/hook",
            "event_types": ["consent.changed"],
        },
    )
    assert refused.status_code == 200 and "https://" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()

    shown = officer_client.post(
        add,
        {
            "system": system.pk,
            "url": "https://mail.example.com/hook",
            "event_types": ["consent.changed"],
        },
    )
    assert shown.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.secrets.get().secret
    assert secret in shown.content.decode() and "no-cache" in shown["Cache-Control"]
    change = officer_client.get(
        reverse("admin:integration_webhookendpoint_change", args=[endpoint.pk])
    )
    assert secret not in change.content.decode()


def test_the_delivery_log_shows_no_body_and_replays(officer_client, storefront, receiver):
    endpoint, _secret = storefront
    receiver.default = 500
    event_publish(
        "consent.changed", customer_id=3, data={"purpose": "newsletter", "status": "withdrawn"}
    )
    deliveries_send(endpoint_id=endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    page = officer_client.get(
        reverse("admin:integration_webhookdelivery_change", args=[delivery.pk])
    )
    assert page.status_code == 200 and delivery.msg_id in page.content.decode()
    assert delivery.payload not in page.content.decode()

    receiver.default = 200
    changelist = reverse("admin:integration_webhookdelivery_changelist")
    officer_client.post(changelist, {"action": "retry_now", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    deliveries_send(endpoint_id=endpoint.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    officer_client.post(changelist, {"action": "replay", "_selected_action": [delivery.pk]})
    assert WebhookDelivery.objects.filter(replay_of=delivery).count() == 1
