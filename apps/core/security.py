"""Small security helpers shared by every app."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def keyed_hash(value: str, *, purpose: str) -> str:
    """A short keyed hash: lets log lines and cache keys be correlated without holding the
    value (an e-mail, an IP address)."""
    key = f"{purpose}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """What django-axes writes to the log for a login attempt: never the e-mail or the IP."""
    client = keyed_hash(f"{username or ''}|{ip_address or ''}", purpose="axes-log")
    return f"client={client} path={path_info}"
