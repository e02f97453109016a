"""API keys: ``Authorization: Bearer <prefix>.<secret>``.

A key is looked up by its prefix and compared by the SHA-256 of the whole key in constant time;
a revoked key, a key past the end of its rotation overlap, or an inactive client is refused
(401). Last use is written at most once a minute per key, not on every call.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from apps.integration.models import ApiClient, ApiKey

KEY_PREFIX = "spk_"
_TOUCH_EVERY = datetime.timedelta(seconds=60)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_generate() -> tuple[str, str, str]:
    """A new key: (the key to show once, its prefix, its hash)."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    return key, prefix, key_hash(key)


class ClientPrincipal:
    """``request.user`` for a call made with an API key: the client, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_active = True
    pk = None

    def __init__(self, client: ApiClient):
        self.client = client

    def __str__(self) -> str:
        return f"api-client:{self.client.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _sep, key = header.partition(" ")
        key = key.strip()
        if keyword != self.keyword or not key:
            raise exceptions.AuthenticationFailed(_("Use the header Authorization: Bearer <key>."))
        prefix = key.partition(".")[0]
        # [:1], not first(): the prefix is unique, and ordering it would cost on every call.
        api_key = (
            next(iter(ApiKey.objects.select_related("client").filter(prefix=prefix[:16])[:1]), None)
            if prefix.startswith(KEY_PREFIX)
            else None
        )
        now = timezone.now()
        if (
            api_key is None
            or not hmac.compare_digest(api_key.key_hash, key_hash(key))
            or not api_key.usable(now)
            or not api_key.client.is_active
        ):
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        if api_key.last_used_at is None or now - api_key.last_used_at > _TOUCH_EVERY:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            ApiClient.objects.filter(pk=api_key.client_id).update(last_used_at=now)
        return ClientPrincipal(api_key.client), api_key
