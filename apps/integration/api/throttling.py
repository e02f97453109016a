"""Each client's own rate limit (``ApiClient.rate_limit``, e.g. "6000/m"), counted in fixed
windows in the shared cache like ``apps.core.ratelimit``; with the cache unreachable it fails
open with a warning (a storefront's checkout must not stop because Redis restarted)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from apps.core.ratelimit import parse_rate
from apps.integration.api.authentication import ClientPrincipal

logger = logging.getLogger(__name__)


class ClientRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        self._wait = 0
        if not isinstance(request.user, ClientPrincipal):
            return True
        client = request.user.client
        try:
            limit, period = parse_rate(client.rate_limit)
        except ValueError:
            limit, period = parse_rate("6000/m")
        now = int(time.time())
        window = now // period
        key = f"api-throttle:{client.pk}:{window}"
        try:
            count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        except ValueError:
            count = 1
        except Exception as exc:  # the cache is down: fail open
            logger.warning(
                "api rate limit not counted client_id=%s error=%s", client.pk, type(exc).__name__
            )
            return True
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self):
        return max(self._wait, 1)
