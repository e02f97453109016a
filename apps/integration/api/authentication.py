"""API keys: ``Authorization: Bearer <prefix>.<secret>``.

A key is looked up by its prefix and compared by the SHA-256 of the whole key in constant time;
a revoked key, a key past the end of its rotation overlap, or an inactive client is refused
(401). Last use is written at most once a minute per key, not on every call.

Each process keeps a key it has read for ``API_KEY_CACHE_SECONDS`` (5 by default; 0 reads the
database on every call): the lookup was one of the few statements of a storefront's order. The
hash, the key's validity period and the client's state are still checked on every call against
the current time, but a revocation, a client made inactive or its scopes changed take effect in
the other processes within those seconds (in the process that revoked, at once).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from apps.integration.models import ApiClient, ApiKey

KEY_PREFIX = "spk_"
_TOUCH_EVERY = datetime.timedelta(seconds=60)
# prefix -> (read until, by time.monotonic(); the key with its client). Only keys that exist
# are kept, so the dictionary stays as small as the table of keys.
_recent: dict[str, tuple[float, ApiKey]] = {}
_clock = time.monotonic


def forget_keys() -> None:
    """Read every key from the database again (called when keys are revoked)."""
    _recent.clear()


def _key_for(prefix: str) -> ApiKey | None:
    seconds = settings.API_KEY_CACHE_SECONDS
    if seconds > 0:
        entry = _recent.get(prefix)
        if entry is not None and entry[0] > _clock():
            return entry[1]
    # [:1], not first(): the prefix is unique, and ordering it would cost on every call.
    api_key = next(
        iter(ApiKey.objects.select_related("client").filter(prefix=prefix[:16])[:1]), None
    )
    if api_key is not None and seconds > 0:
        _recent[prefix] = (_clock() + seconds, api_key)
    return api_key


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
        api_key = _key_for(prefix) if prefix.startswith(KEY_PREFIX) else None
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
            api_key.last_used_at = now  # the kept copy too, or it would write on every call
        return ClientPrincipal(api_key.client), api_key
