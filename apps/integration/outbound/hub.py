"""The integration app's subscriber to the core event hub (apps/core/events.py): one delivery
row per endpoint that wants the event, written in the transaction of the change, and the
endpoint's sending task enqueued once that transaction commits.

The body carries ids: the event's data as the domain app gave it (codes, states, ids), our
customer id and the ids the receiving system knows the person by (``ExternalCustomer`` rows of
the system's API client). ``data`` keeps what the log may keep after delivery: the same without
a correction's new values (their field names only)."""

from __future__ import annotations

import datetime
import json
import uuid
from collections import defaultdict

from django.db import connection, models, transaction
from django.utils import timezone

from apps.core import events
from apps.integration.models import ExternalCustomer
from apps.integration.outbound.models import WebhookDelivery, WebhookEndpoint


def kept_data(event_type: str, data: dict) -> dict:
    """What the delivery log keeps of an event's data once the body is dropped."""
    if event_type == events.CUSTOMER_CORRECTED and "changes" in data:
        kept = {key: value for key, value in data.items() if key != "changes"}
        return {**kept, "fields": sorted(data["changes"])}
    return dict(data)


def external_ids_for(*, customer_id: int | None, client_ids: list[int]) -> dict[int, list[str]]:
    if customer_id is None or not client_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        ExternalCustomer.objects.filter(customer_id=customer_id, client_id__in=client_ids)
        .order_by("pk")
        .values_list("client_id", "external_id")
    )
    for client_id, external_id in rows:
        found[client_id].append(external_id)
    return found


def body_for(
    *,
    event_id: uuid.UUID,
    event_type: str,
    occurred_at,
    customer_id: int | None,
    external_ids: list[str] | None,
    data: dict,
) -> str:
    body_data = dict(data)
    if customer_id is not None:
        body_data["customer"] = {"id": customer_id, "external_ids": external_ids or []}
    body = {
        "id": f"evt_{event_id.hex}",
        "type": event_type,
        "timestamp": occurred_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "data": body_data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class _EndpointsOfThisTransaction:
    """The on-commit callback that marks the endpoint list read in the open transaction: while
    it waits in ``run_on_commit`` the list is this transaction's (Django drops it on a rollback,
    also of the savepoint it was registered in, and runs it on commit), so a transaction that
    publishes many events (a bulk call, an import, an erasure) reads the endpoints once."""

    def __init__(self, endpoints: list[WebhookEndpoint]):
        self.endpoints = endpoints

    def __call__(self) -> None:
        pass


def _active_endpoints() -> list[WebhookEndpoint]:
    connection = transaction.get_connection()
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, _EndpointsOfThisTransaction):
            return func.endpoints
    endpoints = list(
        WebhookEndpoint.objects.select_related("system").filter(system__is_active=True)
    )
    transaction.on_commit(_EndpointsOfThisTransaction(endpoints))
    return endpoints


def deliveries_for_event(event: events.Event) -> list[WebhookDelivery]:
    """The subscriber: called by ``event_publish`` inside the change's transaction."""
    endpoints = [endpoint for endpoint in _active_endpoints() if endpoint.wants(event.type)]
    if not endpoints:
        return []
    client_ids = [e.system.api_client_id for e in endpoints if e.system.api_client_id]
    external = external_ids_for(customer_id=event.customer_id, client_ids=client_ids)
    now = timezone.now()
    rows = [
        _delivery(event, endpoint, external.get(endpoint.system.api_client_id), now)
        for endpoint in endpoints
    ]
    _insert(rows)
    _send_after_commit(rows)
    return rows


INSERT_SLICE = 2000


def deliveries_for_events(published: list[events.Event]) -> list[WebhookDelivery]:
    """`deliveries_for_event` for many events at once (``event_publish_many``): the same rows,
    with the external ids of every person read in one query and inserted in one statement."""
    endpoints = _active_endpoints()
    wanted = [(event, [e for e in endpoints if e.wants(event.type)]) for event in published]
    wanted = [(event, chosen) for event, chosen in wanted if chosen]
    if not wanted:
        return []
    client_ids = sorted(
        {e.system.api_client_id for _, chosen in wanted for e in chosen if e.system.api_client_id}
    )
    customer_ids = sorted({event.customer_id for event, _ in wanted if event.customer_id})
    external: dict[tuple[int, int], list[str]] = defaultdict(list)
    if client_ids and customer_ids:
        rows = (
            ExternalCustomer.objects.filter(customer_id__in=customer_ids, client_id__in=client_ids)
            .order_by("pk")
            .values_list("customer_id", "client_id", "external_id")
        )
        for customer_id, client_id, external_id in rows:
            external[(customer_id, client_id)].append(external_id)
    now = timezone.now()
    rows = [
        _delivery(event, endpoint, external.get((event.customer_id, endpoint.system.api_client_id)), now)
        for event, chosen in wanted
        for endpoint in chosen
    ]  # fmt: skip
    # Django's bulk insert (on PostgreSQL one array per column, whatever the number of rows),
    # in slices that keep one statement's size bounded.
    WebhookDelivery.objects.bulk_create(rows, batch_size=INSERT_SLICE)
    _send_after_commit(rows)
    return rows


def _delivery(
    event: events.Event, endpoint: WebhookEndpoint, external_ids: list[str] | None, now
) -> WebhookDelivery:
    """One endpoint's row of an event: the body to send and what the log keeps of it."""
    return WebhookDelivery(
        endpoint=endpoint,
        event_id=event.id,
        msg_id=new_msg_id(),
        event_type=event.type,
        customer_id=event.customer_id,
        occurred_at=event.occurred_at,
        data=kept_data(event.type, event.data),
        payload=body_for(
            event_id=event.id,
            event_type=event.type,
            occurred_at=event.occurred_at,
            customer_id=event.customer_id,
            external_ids=external_ids,
            data=event.data,
        ),
        next_attempt_at=now,
        created_at=now,
    )


def _send_after_commit(rows: list[WebhookDelivery]) -> None:
    """Each enabled endpoint's sending, once the transaction commits (once per endpoint)."""
    from apps.integration.outbound.tasks import send_on_commit

    for endpoint_id in sorted({row.endpoint.pk for row in rows if row.endpoint.enabled}):
        send_on_commit(endpoint_id)


def _insert(rows: list[WebhookDelivery]) -> None:
    """One INSERT for the event's rows. On PostgreSQL a plain ``INSERT … VALUES`` of every
    column: it is on the path of every consent change and unsubscribe (and of each event of a
    bulk call), and Django's bulk_create compiled it for 2.5 times its whole cost."""
    if connection.vendor != "postgresql":
        WebhookDelivery.objects.bulk_create(rows)
        return
    fields = _insert_fields()
    quote = connection.ops.quote_name
    one = "(" + ", ".join("%s::jsonb" if isinstance(f, models.JSONField) else "%s"
                          for f in fields) + ")"  # fmt: skip
    params: list = []
    for row in rows:
        for field in fields:
            value = getattr(row, field.attname)
            params.append(json.dumps(value) if isinstance(field, models.JSONField) else value)
    # Names come from the model, values are parameters.
    sql = (
        f"INSERT INTO {quote(WebhookDelivery._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) VALUES {', '.join([one] * len(rows))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_fields() -> list[models.Field]:
    return [field for field in WebhookDelivery._meta.concrete_fields if not field.primary_key]


def subscribe() -> None:
    """From IntegrationConfig.ready()."""
    events.event_subscribe(deliveries_for_event, many=deliveries_for_events)
