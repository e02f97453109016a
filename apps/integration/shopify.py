"""A Shopify shop's connection: its client secret, kept usable but unreadable at rest, the
signature check of Shopify's webhooks, and the documented shape of its mandatory privacy
webhooks (``customers/data_request``, ``customers/redact``, ``shop/redact``).

The secret. Shopify signs each webhook with the app's client secret: ``X-Shopify-Hmac-Sha256``
is the base64 HMAC-SHA256 of the raw body under it. Verifying needs the secret itself, so it
cannot be hashed like an API key. It is stored encrypted (Fernet: AES-128-CBC with an
HMAC-SHA256 tag) under a key derived from ``SECRET_KEY`` (``SECRET_KEY_FALLBACKS`` still read
it after a rotation), so a database dump or backup does not reveal it; it is typed into a
write-only admin field, never rendered back, never logged, and dropped when the shop is erased
(``shop/redact``). Rotating ``SECRET_KEY`` without keeping the old one as a fallback makes the
stored secrets unreadable: type them in again.

Rotation at Shopify. Shopify takes up to an hour to sign with a rotated client secret, so the
secret in use before the last change is still accepted for
``SHOPIFY_SECRET_ROTATION_OVERLAP_HOURS``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.integration.models import ApiClient

_SALT = "apps.integration.shopify.client-secret"


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(_SALT, "", secret=key, algorithm="sha256").digest()
                )
            )
            for key in keys
        ]
    )


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str | None:
    """The secret, or None when there is none or it cannot be read (SECRET_KEY changed)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def secret_set(client: ApiClient, secret: str) -> None:
    """Put a new client secret on ``client`` (not saved); the one it replaces stays accepted
    for the rotation overlap."""
    current = secret_decrypt(client.shopify_secret_encrypted)
    if current == secret:
        return  # typed again: no rotation (the previous one's overlap is not restarted)
    if current is not None:
        client.shopify_previous_secret_encrypted = client.shopify_secret_encrypted
    client.shopify_secret_encrypted = secret_encrypt(secret)
    client.shopify_secret_changed_at = timezone.now()


def _secrets(client: ApiClient) -> list[str]:
    secrets = [secret_decrypt(client.shopify_secret_encrypted)]
    overlap = datetime.timedelta(hours=settings.SHOPIFY_SECRET_ROTATION_OVERLAP_HOURS)
    changed = client.shopify_secret_changed_at
    if changed is not None and timezone.now() < changed + overlap:
        secrets.append(secret_decrypt(client.shopify_previous_secret_encrypted))
    return [secret for secret in secrets if secret]


def signature(secret: str, body: bytes) -> str:
    """Shopify's signature of a body: base64 of its HMAC-SHA256 under the client secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(client: ApiClient, body: bytes, received: str) -> bool:
    """Whether ``received`` is Shopify's signature of ``body`` under the client's secret,
    compared in constant time."""
    if not received:
        return False
    return any(
        hmac.compare_digest(signature(secret, body).encode(), received.strip().encode())
        for secret in _secrets(client)
    )


def normalise_domain(domain: str) -> str:
    return (domain or "").strip().lower()


def shopify_client_for(*, shop_domain: str) -> ApiClient | None:
    """The active Shopify connection of this shop domain, if any."""
    domain = normalise_domain(shop_domain)
    if not domain:
        return None
    return ApiClient.objects.filter(
        system=ApiClient.System.SHOPIFY, shop_domain=domain, is_active=True
    ).first()


# ---------------------------------------------------------------------- the payloads
# Shopify's documented shapes: every topic has shop_id and shop_domain; the customer topics add
# customer {id, email, phone} and the order ids (orders_requested for a data request, with
# data_request {id}; orders_to_redact for a redaction). The e-mail and phone are not declared:
# they are dropped here, never stored (the person is found by the ids this shop sent us).

MAX_ORDER_IDS = 10_000


class ShopifyCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class ShopifyDataRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class ShopifyPrivacyWebhookSerializer(serializers.Serializer):
    shop_id = serializers.IntegerField(min_value=1)
    shop_domain = serializers.CharField(max_length=255)
    customer = ShopifyCustomerSerializer(required=False, allow_null=True)
    orders_requested = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=MAX_ORDER_IDS
    )
    orders_to_redact = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=MAX_ORDER_IDS
    )
    data_request = ShopifyDataRequestSerializer(required=False, allow_null=True)

    def validate_shop_domain(self, value: str) -> str:
        value = normalise_domain(value)
        if not value:
            raise serializers.ValidationError(_("The shop domain is missing."))
        return value
