"""Orders in: one service for the API's single and bulk calls.

``orders_upsert`` takes a client's orders under the client's own ids (``ExternalOrder``):

- The customer is named by the client's id for them (``ExternalCustomer``): the storefront sends
  the person first (``POST /api/v1/customers/``), then their orders. An id it never sent is an
  error ("unknown customer, send it first"); no order is matched to a person by e-mail or name.
  The id of a person erased since (kept only as a keyed hash) is a ``conflict``.
- An order id the client has not sent before creates the order (with its lines, shipping snapshot
  and payment) and maps the id to it; an id already mapped brings that order up to date: its
  fields, its lines (replaced as a whole when they differ) and its payment. Nothing that differs
  answers ``unchanged``.
- The orders app's rules decide (``apps.orders.records``): the lines make the subtotal and the
  subtotal plus shipping the total, a full card number is never stored, an erased person gets no
  order and a restricted one no new order (``conflict``, with the reason).
- ``dry_run=True`` answers what would happen and writes nothing (no ``object_id`` for a new one).

Speed: whatever the number of orders and of their lines, a batch is read in two queries (the
customers, resolved from the client's ids and locked; the orders known by these ids or holding
these numbers), plus two more for the stored lines and payments of the orders being updated,
and written by ``orders_record`` in a fixed number of statements, plus one insert of the ids.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.customers.models import Customer
from apps.integration.ingest.customers import erased_external_id
from apps.integration.ingest.types import ItemResult
from apps.integration.models import ApiClient, ExternalCustomer, ExternalOrder
from apps.orders.models import Order
from apps.orders.records import (
    LineRecord,
    OrderRecord,
    PaymentRecord,
    ShipTo,
    erased_message,
    orders_record,
)

EXTERNAL_ID_MAX_LENGTH = ExternalOrder._meta.get_field("external_id").max_length


class Status:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    ERROR = "error"


@dataclass(frozen=True)
class OrderIn:
    """An order as the client sold it, under the client's own ids."""

    external_id: str
    customer_external_id: str
    number: str
    placed_at: datetime.datetime
    lines: tuple[LineRecord, ...]
    subtotal: int
    shipping_fee: int
    total: int
    ship_to: ShipTo
    payment: PaymentRecord | None
    status: str = Order.Status.PLACED


def unknown_customer_message() -> str:
    return _("Unknown customer: send it first (POST /api/v1/customers/).")


def orders_upsert(
    *, client: ApiClient, items: Sequence[OrderIn], dry_run: bool = False
) -> list[ItemResult]:
    """Create or update each order; one result per item, in order (``index`` = position)."""
    if not items:
        return []
    # One transaction for the lookups, the orders and their ids. No savepoint (two round trips)
    # unless a dry run must roll back its part alone: a failure rolls the caller's back.
    with transaction.atomic(savepoint=dry_run):
        results = _upsert(client, items, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
    return results


def _upsert(client: ApiClient, items: Sequence[OrderIn], *, dry_run: bool) -> list[ItemResult]:
    results: list[ItemResult | None] = [None] * len(items)
    # The customers, resolved from the client's ids and locked in one query (in primary-key
    # order, first of anything of theirs, as apps.core.locks asks), their state read under it.
    customers: dict[str, int] = {}
    statuses: dict[int, str] = {}
    for external_id, pk, status in _customers_locked(
        client, {item.customer_external_id for item in items}
    ):
        customers[external_id] = pk
        statuses[pk] = status
    # An id that resolves to nobody may be a person erased since: erasure keeps only a keyed
    # hash of the id, so that their orders are refused as theirs (conflict) and not taken for
    # an unknown customer's. One more query, only when some id is unknown.
    unknown = {item.customer_external_id for item in items} - customers.keys()
    hashed = {
        erased_external_id(client_id=client.pk, external_id=external_id): external_id
        for external_id in unknown
    }
    erased = (
        {
            hashed[value]
            for value in ExternalCustomer.objects.filter(
                client=client, external_id__in=hashed
            ).values_list("external_id", flat=True)
        }
        if hashed
        else set()
    )
    # In one query: the orders this client sent before under these ids, and the orders that
    # hold these numbers already. Most orders arrive once: only those that exist are loaded
    # with their lines and payment (to compare and update).
    known: dict[int, str] = {}
    numbers_taken: dict[str, int] = {}
    for pk, number, owner, external_id in _orders_known(
        client, {item.number for item in items}, {item.external_id for item in items}
    ):
        numbers_taken[number] = pk
        if owner == client.pk:
            known[pk] = external_id
    existing = (
        {
            known[order.pk]: order
            for order in Order.objects.filter(pk__in=known)
            .select_related("payment")
            .prefetch_related("lines")
        }
        if known
        else {}
    )
    records: list[OrderRecord] = []
    positions: list[int] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        errors = {}
        if item.external_id in seen:
            errors["external_id"] = [_("This id comes twice in this request.")]
        seen.add(item.external_id)
        customer_id = customers.get(item.customer_external_id)
        if item.customer_external_id in erased and not errors:
            results[index] = ItemResult(
                index, item.external_id, Status.CONFLICT, errors={"customer": [erased_message()]}
            )
            continue
        if customer_id is None:
            errors["customer_external_id"] = [unknown_customer_message()]
        if errors:
            results[index] = ItemResult(index, item.external_id, Status.ERROR, errors=errors)
            continue
        records.append(
            OrderRecord(
                customer_id=customer_id,
                number=item.number,
                placed_at=item.placed_at,
                lines=item.lines,
                subtotal=item.subtotal,
                shipping_fee=item.shipping_fee,
                total=item.total,
                ship_to=item.ship_to,
                payment=item.payment,
                status=item.status,
                order=existing.get(item.external_id),
            )
        )
        positions.append(index)
    if not records:
        return results  # type: ignore[return-value]

    outcomes = orders_record(records=records, locked_statuses=statuses, numbers_taken=numbers_taken)
    ExternalOrder.objects.bulk_create(
        ExternalOrder(client=client, external_id=items[index].external_id, order=outcome.order)
        for index, outcome in zip(positions, outcomes, strict=True)
        if outcome.status == Status.CREATED
    )
    for index, outcome in zip(positions, outcomes, strict=True):
        created = outcome.status == Status.CREATED
        results[index] = ItemResult(
            index,
            items[index].external_id,
            outcome.status,
            object_id=None if outcome.order is None or (dry_run and created) else outcome.order.pk,
            errors=outcome.errors,
            changed=outcome.changed,
        )
    return results  # type: ignore[return-value]


def _customers_locked(client: ApiClient, external_ids: set[str]) -> list[tuple]:
    """(client's id, customer id, status) of the customers under these ids, locked in
    primary-key order. On PostgreSQL one hand-written statement with the ids as one array: the
    ORM's compiling of the join cost more than running it, on every single order."""
    if connection.vendor != "postgresql":
        return list(
            Customer.objects.select_for_update(of=("self",))
            .filter(external_ids__client=client, external_ids__external_id__in=external_ids)
            .order_by("pk")
            .values_list("external_ids__external_id", "pk", "status")
        )
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMERS_LOCKED_SQL, [client.pk, list(external_ids)])
        return cursor.fetchall()


def _orders_known(client: ApiClient, numbers: set[str], external_ids: set[str]) -> list[tuple]:
    """(order id, number, id mapping's client id, client's id) of the orders holding these
    numbers or known to this client by these ids (as ``_customers_locked``, by hand on
    PostgreSQL)."""
    if connection.vendor != "postgresql":
        return list(
            Order.objects.filter(
                Q(number__in=numbers)
                | Q(external_ref__client=client, external_ref__external_id__in=external_ids)
            ).values_list("pk", "number", "external_ref__client_id", "external_ref__external_id")
        )
    with connection.cursor() as cursor:
        cursor.execute(_ORDERS_KNOWN_SQL, [list(numbers), client.pk, list(external_ids)])
        return cursor.fetchall()


def _sql() -> tuple[str, str]:
    """The two statements, with the tables' and columns' names from the models."""
    quote = connection.ops.quote_name

    def col(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    customer, link = quote(Customer._meta.db_table), quote(ExternalCustomer._meta.db_table)
    order, ref = quote(Order._meta.db_table), quote(ExternalOrder._meta.db_table)
    customers = (
        f"SELECT l.{col(ExternalCustomer, 'external_id')}, c.{col(Customer, 'id')}, "  # noqa: S608
        f"c.{col(Customer, 'status')} FROM {customer} c JOIN {link} l "
        f"ON l.{col(ExternalCustomer, 'customer')} = c.{col(Customer, 'id')} "
        f"WHERE l.{col(ExternalCustomer, 'client')} = %s "
        f"AND l.{col(ExternalCustomer, 'external_id')} = ANY(%s::text[]) "
        f"ORDER BY c.{col(Customer, 'id')} FOR UPDATE OF c"
    )
    orders = (
        f"SELECT o.{col(Order, 'id')}, o.{col(Order, 'number')}, "  # noqa: S608
        f"r.{col(ExternalOrder, 'client')}, r.{col(ExternalOrder, 'external_id')} "
        f"FROM {order} o LEFT JOIN {ref} r ON r.{col(ExternalOrder, 'order')} = o.{col(Order, 'id')} "
        f"WHERE o.{col(Order, 'number')} = ANY(%s::text[]) OR (r.{col(ExternalOrder, 'client')} = %s "
        f"AND r.{col(ExternalOrder, 'external_id')} = ANY(%s::text[]))"
    )
    return customers, orders


_CUSTOMERS_LOCKED_SQL, _ORDERS_KNOWN_SQL = _sql()


def order_for_external_id(*, client: ApiClient, external_id: str) -> Order | None:
    """The client's order under its id, with lines and payment (None: not this client's)."""
    return (
        Order.objects.filter(external_ref__client=client, external_ref__external_id=external_id)
        .select_related("payment", "customer")
        .prefetch_related("lines")
        .first()
    )
