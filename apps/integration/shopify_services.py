"""Shopify's mandatory privacy webhooks: receive (one row and a durable job, in one transaction),
then carry out.

- ``customers/data_request`` files a disclosure request and ``customers/redact`` an erasure
  request for the person, with the identity vouched for by the shop (``api-client:<id>``),
  through the request app's port (apps/core/intake.py). The person is the one this connection
  brought under that Shopify customer id, or else the owner of the Shopify orders it names; a
  person this shop never sent is not looked for by e-mail or phone (another record with the
  same address is not what the shop asked about), and the webhook is recorded as "nothing to
  do".
- ``shop/redact`` (48 hours after the shop uninstalled the app) ends the connection: every
  person known only through it (no other connected system's id, no member login of their own)
  gets an erasure request, so the privacy officer sees the dry-run preview and the timeline
  keeps the step, and the request's erasure leaves orders under the tax hold as it always does;
  then the connection's customer and order ids, its keys, its shop domain and its secret are
  removed and it is deactivated. People in batches of ``SHOPIFY_SHOP_REDACT_BATCH``, each one
  transaction that files and forgets its ids, so a rerun carries on where the last stopped.

Each run locks the webhook row and does nothing once it is no longer ``received``: a duplicate
message or a retry files nothing twice.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.durable import durable_enqueue
from apps.core.intake import RequestFiling, request_file
from apps.customers.models import Customer
from apps.integration.models import ApiClient, ApiKey, ExternalCustomer, ExternalOrder
from apps.integration.models import ShopifyWebhook as Webhook

logger = logging.getLogger(__name__)

Topic = Webhook.Topic
State = Webhook.State

KIND_OF_TOPIC = {Topic.DATA_REQUEST: "disclosure", Topic.CUSTOMER_REDACT: "erasure"}
CHANNEL = "shopify"


def _enqueue(webhook: Webhook) -> None:
    from apps.integration.shopify_tasks import shopify_webhook_process_task

    durable_enqueue(shopify_webhook_process_task, webhook.pk)


def shopify_webhook_receive(
    *,
    client: ApiClient,
    topic: str,
    webhook_id: str,
    payload: dict,
    event_id: str = "",
    triggered_at: datetime.datetime | None = None,
    api_version: str = "",
) -> tuple[Webhook, bool]:
    """Record a verified webhook and its job in one transaction; (row, False) for a webhook
    already received (the same webhook id, or the same event id through another
    subscription), which changes nothing."""
    same = Q(webhook_id=webhook_id) | (Q(event_id=event_id) if event_id else Q(pk__in=[]))
    existing = Webhook.objects.filter(same, client=client).first()
    if existing is not None:
        return existing, False
    customer = payload.get("customer") or {}
    orders = payload.get("orders_requested") or payload.get("orders_to_redact") or []
    try:
        with transaction.atomic():
            webhook = Webhook.objects.create(
                client=client,
                topic=topic,
                webhook_id=webhook_id,
                event_id=event_id,
                shop_id=payload.get("shop_id"),
                shopify_customer_id=str(customer.get("id") or ""),
                order_ids=[int(order_id) for order_id in orders],
                data_request_id=str((payload.get("data_request") or {}).get("id") or ""),
                triggered_at=triggered_at,
                api_version=api_version[:20],
            )
            _enqueue(webhook)
    except IntegrityError:  # the same webhook, received at the same moment by another worker
        return Webhook.objects.filter(same, client=client).get(), False
    logger.info(
        "shopify webhook received client_id=%s webhook_row=%s topic=%s",
        client.pk,
        webhook.pk,
        topic,
    )
    return webhook, True


def _people(webhook: Webhook) -> list[int]:
    """The customers this connection brought that the webhook names: by the Shopify customer
    id, else by the Shopify orders."""
    if webhook.shopify_customer_id:
        found = list(
            ExternalCustomer.objects.filter(
                client_id=webhook.client_id, external_id=webhook.shopify_customer_id
            ).values_list("customer_id", flat=True)
        )
        if found:
            return found
    if webhook.order_ids:
        return sorted(
            set(
                ExternalOrder.objects.filter(
                    client_id=webhook.client_id,
                    external_id__in=[str(order_id) for order_id in webhook.order_ids],
                ).values_list("order__customer_id", flat=True)
            )
            - {None}
        )
    return []


def _file(*, webhook: Webhook, kind: str, customer_id: int) -> tuple[str | None, str]:
    """File one request; (its reference, "") or (None, why the request app refused it)."""
    # Staff read it on the request: where it came from, by ids (Shopify's own request id too).
    details = _("Shopify webhook %(topic)s (#%(id)s)") % {"topic": webhook.topic, "id": webhook.pk}
    if webhook.data_request_id:
        details += " " + _("Shopify data request %(id)s") % {"id": webhook.data_request_id}
    try:
        state = request_file(
            RequestFiling(
                kind=kind,
                customer_id=customer_id,
                channel=CHANNEL,
                vouched_by=f"api-client:{webhook.client_id}",
                details=details,
                received_at=webhook.received_at,
            )
        )
    except ValidationError as exc:
        return None, " ".join(str(message) for message in exc.messages)[:500]
    return state.reference, ""


@transaction.atomic
def shopify_webhook_process(*, webhook_id: int) -> Webhook | None:
    """Carry out one received webhook (see the module docstring); safe to run twice."""
    webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
    if webhook is None or webhook.state != State.RECEIVED:
        return webhook
    if webhook.topic == Topic.SHOP_REDACT:
        return _shop_redact(webhook)
    customer_ids = _people(webhook)
    references, refusals = [], []
    for customer_id in customer_ids:
        reference, refusal = _file(
            webhook=webhook, kind=KIND_OF_TOPIC[webhook.topic], customer_id=customer_id
        )
        if reference:
            references.append(reference)
        else:
            refusals.append(refusal)
    if not customer_ids:
        webhook.state = State.NOT_KNOWN
    else:
        webhook.state = State.FILED if references else State.REFUSED
    webhook.customer_ids = customer_ids
    webhook.request_references = references
    webhook.outcome = " / ".join(refusals)
    webhook.processed_at = timezone.now()
    webhook.save(
        update_fields=[
            "state",
            "customer_ids",
            "request_references",
            "outcome",
            "processed_at",
        ]
    )
    logger.info(
        "shopify webhook processed webhook_row=%s state=%s requests=%s",
        webhook.pk,
        webhook.state,
        len(references),
    )
    return webhook


def _known_elsewhere(client: ApiClient, customer_ids: list[int]) -> set[int]:
    """Of these people, those the shop knows otherwise: another connected system's id, or a
    member login of their own."""
    other_clients = ExternalCustomer.objects.filter(customer_id__in=customer_ids).exclude(
        client=client
    )
    members = Customer.objects.filter(pk__in=customer_ids, user__isnull=False)
    return set(other_clients.values_list("customer_id", flat=True)) | set(
        members.values_list("pk", flat=True)
    )


def _shop_redact(webhook: Webhook) -> Webhook:
    client = webhook.client
    counts = dict(webhook.counts or {})
    batch = list(
        ExternalCustomer.objects.filter(client=client)
        .order_by("pk")
        .values_list("pk", "customer_id")[: settings.SHOPIFY_SHOP_REDACT_BATCH]
    )
    if batch:
        customer_ids = sorted({customer_id for _pk, customer_id in batch})
        kept = _known_elsewhere(client, customer_ids)
        erased = set(
            Customer.objects.filter(pk__in=customer_ids, status=Customer.Status.ERASED).values_list(
                "pk", flat=True
            )
        )
        for customer_id in customer_ids:
            if customer_id in kept or customer_id in erased:
                continue
            reference, _refusal = _file(webhook=webhook, kind="erasure", customer_id=customer_id)
            if reference:
                webhook.request_references = [*webhook.request_references, reference]
                counts["requests_filed"] = counts.get("requests_filed", 0) + 1
            else:  # e.g. no address on file to answer to: the officer looks at these people
                counts["requests_refused"] = counts.get("requests_refused", 0) + 1
                webhook.customer_ids = [*webhook.customer_ids, customer_id]
        counts["known_otherwise"] = counts.get("known_otherwise", 0) + len(kept)
        counts["already_erased"] = counts.get("already_erased", 0) + len(erased - kept)
        ExternalCustomer.objects.filter(pk__in=[pk for pk, _customer_id in batch]).delete()
        webhook.counts = counts
        webhook.save(update_fields=["request_references", "customer_ids", "counts"])
        if len(batch) == settings.SHOPIFY_SHOP_REDACT_BATCH:
            _enqueue(webhook)  # the next batch, in a transaction (and a job) of its own
            return webhook
        return _shop_redact(webhook)
    # Everyone is handled: forget what the connection knew and end it.
    counts["order_ids_removed"], _by_model = ExternalOrder.objects.filter(client=client).delete()
    counts["keys_revoked"] = ApiKey.objects.filter(client=client, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    ApiClient.objects.filter(pk=client.pk).update(
        is_active=False,
        shop_domain="",
        shopify_secret_encrypted="",
        shopify_previous_secret_encrypted="",
        shopify_secret_changed_at=None,
    )
    webhook.counts = counts
    webhook.state = State.SHOP_ERASED
    webhook.processed_at = timezone.now()
    webhook.outcome = ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))
    webhook.save(update_fields=["counts", "state", "processed_at", "outcome"])
    logger.info(
        "shopify shop erased client_id=%s webhook_row=%s requests=%s",
        client.pk,
        webhook.pk,
        counts.get("requests_filed", 0),
    )
    return webhook


def shopify_webhook_retry(*, webhook: Webhook, by=None):
    """Staff's "try again now" for a webhook whose job failed or waits: its latest job is
    enqueued at once (refused for one already carried out, or running)."""
    from apps.core.durable import job_latest, job_retry
    from apps.integration.shopify_tasks import shopify_webhook_process_task

    if webhook.state != State.RECEIVED:
        raise ValidationError(_("This webhook has been carried out already."))
    job = job_latest(shopify_webhook_process_task, webhook.pk)
    if job is None:  # never happens through the receiver; a row made by hand gets its job
        with transaction.atomic():
            return _enqueue(webhook)
    return job_retry(job=job, by=by)
