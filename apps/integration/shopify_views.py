"""``/integrations/shopify/webhooks/``: the one URL for Shopify's three mandatory privacy topics
(the topic is in ``X-Shopify-Topic``).

In order, and nothing is stored before the last step: POST only (405); a body over
``SHOPIFY_WEBHOOK_MAX_BYTES`` is 413; the shop (``X-Shopify-Shop-Domain``) must be an active
Shopify connection and ``X-Shopify-Hmac-Sha256`` its signature of the raw body (401 for either,
the same answer, as Shopify's review requires for a bad signature); the signed body must name
the same shop (401: the header is not signed); an unknown topic, a missing webhook id or a body
that is not the documented JSON is 400. Then one row and its job are written and the answer is
200 at once; a webhook already received (its webhook id, or its event id) is 200 and changes
nothing. Errors are problem details (RFC 9457) without any value from the body.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.integration.api.problems import flatten_errors
from apps.integration.models import ApiCallLog, ApiClient, ShopifyWebhook
from apps.integration.shopify import (
    ShopifyPrivacyWebhookSerializer,
    shopify_client_for,
    signature_valid,
)
from apps.integration.shopify_services import shopify_webhook_receive

logger = logging.getLogger(__name__)


def _problem(status: int, title: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )


def _too_large() -> JsonResponse:
    return _problem(413, _("Request too large"), _("The body is larger than a webhook can be."))


@csrf_exempt
@require_POST
def shopify_webhook(request):
    limit = settings.SHOPIFY_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _too_large()
    body = request.body
    if len(body) > limit:
        return _too_large()

    client = shopify_client_for(shop_domain=request.headers.get("X-Shopify-Shop-Domain", ""))
    if client is None or not signature_valid(
        client, body, request.headers.get("X-Shopify-Hmac-Sha256", "")
    ):
        logger.warning("shopify webhook refused: unknown shop or bad signature")
        return _problem(
            401,
            _("Not authenticated"),
            _("The signature does not match a connected Shopify shop."),
        )

    webhook_pk, response = _verified(request, client, body)
    # The access log, as for every API call: the client, the topic, the row's id, the answer.
    topic = request.headers.get("X-Shopify-Topic", "")
    ApiCallLog.objects.create(
        client_id=client.pk,
        action=f"shopify.{topic if topic in ShopifyWebhook.Topic.values else 'other'}",
        object_ids=[str(webhook_pk)] if webhook_pk else [],
        status_code=response.status_code,
    )
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return response


def _verified(request, client, body: bytes):
    """(the id of its row or None, the answer) for a webhook whose signature is good."""
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in ShopifyWebhook.Topic.values:
        return None, _problem(
            400,
            _("Malformed request"),
            _("Only the privacy topics are received here: %(topics)s.")
            % {"topics": ", ".join(ShopifyWebhook.Topic.values)},
        )
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not webhook_id or len(webhook_id) > 100:
        return None, _problem(
            400, _("Malformed request"), _("The X-Shopify-Webhook-Id header is missing.")
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, _problem(400, _("Malformed request"), _("The body is not JSON."))
    payload = ShopifyPrivacyWebhookSerializer(data=data if isinstance(data, dict) else {})
    if not payload.is_valid():
        # Field names and our messages only: never a value from the body.
        return None, _problem(
            400,
            _("Malformed request"),
            _("The body is not a Shopify privacy webhook."),
            errors=flatten_errors(payload.errors),
        )
    if payload.validated_data["shop_domain"] != client.shop_domain:
        logger.warning("shopify webhook refused: body names another shop client_id=%s", client.pk)
        return None, _problem(
            401,
            _("Not authenticated"),
            _("The signature does not match a connected Shopify shop."),
        )

    webhook, created = shopify_webhook_receive(
        client=client,
        topic=topic,
        webhook_id=webhook_id,
        event_id=request.headers.get("X-Shopify-Event-Id", "").strip()[:100],
        payload=payload.validated_data,
        triggered_at=_triggered_at(request.headers.get("X-Shopify-Triggered-At", "")),
        api_version=request.headers.get("X-Shopify-API-Version", ""),
    )
    return webhook.pk, JsonResponse(
        {"status": "received" if created else "duplicate", "id": webhook.pk}
    )


def _triggered_at(value: str):
    try:
        return parse_datetime(value.strip())
    except ValueError:  # a well-formed but impossible date: kept unknown
        return None
