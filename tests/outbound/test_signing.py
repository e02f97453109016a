"""Signatures to the Standard Webhooks specification, checked by its own library as a receiver
would; a rotated secret signs beside the old one for the overlap, then alone."""

import datetime
import json

import pytest
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.core.events import event_publish
from apps.integration.outbound.delivery import deliveries_send
from apps.integration.outbound.models import WebhookDelivery, WebhookSecret
from apps.integration.outbound.services import webhook_secret_rotate
from apps.integration.outbound.signing import secret_generate

pytestmark = pytest.mark.django_db


def publish(customer_id=41, status="withdrawn"):
    return event_publish(
        "consent.changed",
        customer_id=customer_id,
        data={"purpose": "mail_magazine", "status": status, "source": "mypage"},
    )


def test_a_secret_is_whsec_and_32_random_bytes():
    secret = secret_generate()
    assert secret.startswith("whsec_") and secret != secret_generate()
    Webhook(secret)  # the library takes it


def test_the_receiver_verifies_the_body_with_the_library(storefront, receiver):
    endpoint, secret = storefront
    event = publish()
    deliveries_send(endpoint_id=endpoint.pk)
    [request] = receiver.requests
    body = Webhook(secret).verify(request["body"], request["headers"])
    assert body["type"] == "consent.changed" and body["id"] == f"evt_{event.id.hex}"
    assert body["data"]["status"] == "withdrawn" and body["data"]["customer"]["id"] == 41
    delivery = WebhookDelivery.objects.get()
    assert request["headers"]["webhook-id"] == delivery.msg_id
    # Someone else's secret, or a body changed on the way, is refused.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_generate()).verify(request["body"], request["headers"])
    tampered = request["body"].replace(b"withdrawn", b"granted__")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, request["headers"])


def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(storefront, receiver):
    endpoint, old = storefront
    new = webhook_secret_rotate(endpoint=endpoint)
    assert new != old
    publish()
    deliveries_send(endpoint_id=endpoint.pk)
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(request["body"], request["headers"])

    # The overlap is over: only the new secret signs.
    WebhookSecret.objects.filter(expires_at__isnull=False).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    publish(status="granted")
    deliveries_send(endpoint_id=endpoint.pk)
    request = receiver.requests[-1]
    assert json.loads(request["body"])["data"]["status"] == "granted"
    Webhook(new).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request["body"], request["headers"])
