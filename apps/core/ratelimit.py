"""A small cache-based rate limiter for every anonymous or member write endpoint.

    @rate_limit("contact")
    def contact(request): ...

The limit for a scope comes from ``settings.RATE_LIMITS[scope]`` as "count/period" (period s,
m, h or d, e.g. "5/h" or "10/15m"); the table in config/settings/base.py is the one list of
scopes, and a test checks that each of them guards a URL. Counting is in fixed windows, in the
default cache (shared across processes in production): per member for a logged-in request (a
shared address, such as a mobile carrier's, does not make members limit each other), per
client address (``apps.core.security.client_ip``) otherwise. Over the limit the view is not
called, so nothing is written or sent: the client gets 429 with a clear page and
``Retry-After``. The cache key holds a keyed hash, never the address or the member's id.

Where a refusal must not cost the visitor what they typed (the contact form), a scope can count
only successful sends: ``@rate_limit("contact", count="success")`` checks the count before the
view without adding to it, counts only a response that redirects (the form's success, PRG),
and over the limit still calls the view with ``request.rate_limit_retry_after`` set: the view
then renders its bound form with ``rate_limit_refusal`` (429, ``Retry-After``) and writes
nothing. Two sends racing past the check may both count; the limit is a brake, not a quota.

On a view that needs a login, put it below ``member_required``: an anonymous POST is sent to
the login page before it counts against anyone.

With the cache unreachable (its Redis down) the limiter fails open: the request goes through and
a warning names the scope (nothing about the client). Refusing every signup, contact message,
privacy request and unsubscribe while Redis is down would turn a cache outage into lost legal
requests; the login lockout (django-axes) keeps counting meanwhile, in the database.
"""

from __future__ import annotations

import logging
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from apps.core.security import client_ip, keyed_hash

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    seconds = _PERIODS.get(period.strip()[-1:] or "", 0) * int(period.strip()[:-1] or 1)
    if not count.strip().isdigit() or seconds <= 0:
        raise ValueError(f"bad rate {rate!r}: use e.g. '5/h' or '10/15m'")
    return int(count), seconds


def _client_key(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return keyed_hash(f"user:{user.pk}", purpose="ratelimit")
    return keyed_hash(f"ip:{client_ip(request) or ''}", purpose="ratelimit")


def hit(scope: str, request) -> tuple[bool, int]:
    """Count one attempt; returns (over the limit?, seconds until the window ends)."""
    limit, period = parse_rate(settings.RATE_LIMITS[scope])
    now = int(time.time())
    window = now // period
    key = f"ratelimit:{scope}:{window}:{_client_key(request)}"
    try:
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    except Exception as exc:  # the cache server is down or unreachable: fail open
        logger.warning(
            "rate limit not counted, cache unreachable scope=%s error=%s", scope, type(exc).__name__
        )
        return False, 0
    return count > limit, (window + 1) * period - now


def peek(scope: str, request) -> tuple[bool, int]:
    """Whether the client is already at the limit, without counting this attempt."""
    limit, period = parse_rate(settings.RATE_LIMITS[scope])
    now = int(time.time())
    window = now // period
    key = f"ratelimit:{scope}:{window}:{_client_key(request)}"
    try:
        count = cache.get(key) or 0
    except Exception as exc:  # fail open, as hit() does
        logger.warning(
            "rate limit not checked, cache unreachable scope=%s error=%s",
            scope,
            type(exc).__name__,
        )
        return False, 0
    return count >= limit, (window + 1) * period - now


def rate_limit_refusal(response, retry_after: int):
    """Mark a view's own refusal page (count="success") as the limiter's answer."""
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(scope: str, *, methods: tuple[str, ...] = ("POST",), count: str = "every"):
    if count not in ("every", "success"):
        raise ValueError(f"count must be 'every' or 'success', not {count!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and count == "success":
                limited, retry_after = peek(scope, request)
                request.rate_limit_retry_after = retry_after if limited else None
                response = view(request, *args, **kwargs)
                if not limited and 300 <= response.status_code < 400:
                    hit(scope, request)
                return response
            if request.method in methods:
                limited, retry_after = hit(scope, request)
                if limited:
                    response = render(
                        request,
                        "core/rate_limited.html",
                        {"retry_minutes": max(1, (retry_after + 59) // 60)},
                        status=429,
                    )
                    response["Retry-After"] = str(retry_after)
                    return response
            return view(request, *args, **kwargs)

        # Read by the test that every scope of the table guards a URL (functools.wraps carries
        # it through the decorators stacked above).
        wrapper.rate_limit_scope = scope
        return wrapper

    return decorator
