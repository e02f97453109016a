"""``Idempotency-Key`` on every POST (the IETF httpapi draft, as Stripe and Shopify use it).

The first request with a key runs inside one transaction together with the row that records its
answer, so a repeat (even one arriving while the first still runs: it waits on the row) gets the
first answer again, marked ``Idempotent-Replayed: true``, and nothing runs twice. The same key with
a different method, path or body is refused with 422. A request that fails with a 4xx stores
nothing (its transaction rolls back), so it can be corrected and sent again with the same key.
"""

from __future__ import annotations

import functools
import hashlib

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from apps.integration.api.problems import Unprocessable
from apps.integration.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(request._request.body)
    return digest.hexdigest()


def idempotent(handler):
    """Decorate a view's ``post``."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise exceptions.ParseError(
                _("The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
            )
        fingerprint = _fingerprint(request)
        client = request.user.client
        with transaction.atomic():
            record, created = IdempotencyRecord.objects.select_for_update().get_or_create(
                client=client, key=key, defaults={"fingerprint": fingerprint}
            )
            if not created:
                if record.fingerprint != fingerprint:
                    raise Unprocessable(
                        _(
                            "This Idempotency-Key was used for a different request: "
                            "use a new key for a new request."
                        ),
                        code="idempotency_key_reused",
                    )
                return Response(
                    record.response,
                    status=record.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            response = handler(view, request, *args, **kwargs)
            if response.status_code < 400:
                record.status_code = response.status_code
                record.response = response.data
                record.save(update_fields=["status_code", "response"])
            else:
                transaction.set_rollback(True)
            return response

    return wrapper
