"""Shopify's privacy webhooks as Shopify sends them, for the tests: payloads written from its
documented format (shop_id, shop_domain, customer {id, email, phone}, orders_requested /
orders_to_redact, data_request {id}) with its headers, signed with the real scheme (base64
HMAC-SHA256 of the raw body under the app's client secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from apps.integration.models import ApiClient, ExternalCustomer
from apps.integration.shopify import secret_set
from tests.factories import GuestFactory

URL = "/integrations/shopify/webhooks/"
SHOP = "kyoto-tea.myshopify.com"
SECRET = "shpss_0123456789abcdef0123456789abcdef"
EMAIL = "hanako.shopify@example.com"
PHONE = "+81-90-5555-1234"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def data_request(customer_id=191167, orders=(299938, 280263), shop=SHOP) -> dict:
    return {
        "shop_id": 954889,
        "shop_domain": shop,
        "orders_requested": list(orders),
        "customer": {"id": customer_id, "email": EMAIL, "phone": PHONE},
        "data_request": {"id": 9999},
    }


def customer_redact(customer_id=191167, orders=(299938,), shop=SHOP) -> dict:
    return {
        "shop_id": 954889,
        "shop_domain": shop,
        "customer": {"id": customer_id, "email": EMAIL, "phone": PHONE},
        "orders_to_redact": list(orders),
    }


def shop_redact(shop=SHOP) -> dict:
    return {"shop_id": 954889, "shop_domain": shop}


_ids = iter(range(1, 10**6))


def deliver(
    client,
    topic,
    payload,
    *,
    webhook_id=None,
    event_id=None,
    secret=SECRET,
    shop=SHOP,
    signature=None,
    body=None,
):
    body = json.dumps(payload).encode() if body is None else body
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or f"b54557e4-8a5f-4f7d-a4bc-{next(_ids):012d}",
        "X-Shopify-Event-Id": event_id or f"98880550-7158-44d4-b7cd-{next(_ids):012d}",
        "X-Shopify-Triggered-At": "2026-12-01T23:59:59.123456Z",
        "X-Shopify-API-Version": "2025-10",
    }
    if signature is not False:
        headers["X-Shopify-Hmac-Sha256"] = signature or sign(body, secret)
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def shop():
    row = ApiClient(name="Kyoto tea (Shopify)", system=ApiClient.System.SHOPIFY, shop_domain=SHOP)
    secret_set(row, SECRET)
    row.save()
    return row


def known(shop, customer=None, shopify_id="191167"):
    customer = customer or GuestFactory()
    ExternalCustomer.objects.create(client=shop, external_id=shopify_id, customer=customer)
    return customer
