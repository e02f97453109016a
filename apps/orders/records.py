"""Orders a storefront recorded: its own products, prices and numbers, written here as it sent them.

``order_place`` (services.py) prices an order from our catalogue; a storefront has already sold
the order, so ``orders_record`` checks that it adds up instead (lines make the subtotal, subtotal
plus shipping the total) and keeps it as sent. The rules that hold for every order hold here too:
a restricted or erased customer cannot order, and a full card number is never stored (every text
of the record is checked, not only the payment's).

Many records are written with a fixed number of statements (one lock of all the customers, one
insert of all the orders, one of all their lines, ...), however many records and lines there are:
a storefront's bulk of 1,000 orders and its single orders take the same path.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field, fields

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.customers.models import Customer
from apps.orders.models import Order, OrderLine, Payment
from apps.orders.services import OrderRefused
from apps.orders.validators import contains_card_number, validate_last4

logger = logging.getLogger(__name__)

CARD_NUMBER_MESSAGE = gettext_lazy(
    "This looks like a full card number. We never store card numbers: "
    "send only the brand and the last four digits."
)


@dataclass(frozen=True)
class LineRecord:
    sku: str
    name: str
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class ShipTo:
    """The snapshot of where the order went (the person's addresses may change later)."""

    name: str = ""
    postal_code: str = ""
    address: str = ""  # one line, e.g. "〒150-0001 東京都 渋谷区 神宮前1-2-3"
    phone: str = ""


@dataclass(frozen=True)
class PaymentRecord:
    method: str
    card_brand: str = ""
    card_last4: str = ""
    reference: str = ""
    status: str = Payment.Status.PENDING


@dataclass(frozen=True)
class OrderRecord:
    """One order as the storefront sold it. ``order`` is the order it replaces, if any."""

    customer_id: int
    number: str
    placed_at: datetime.datetime
    lines: tuple[LineRecord, ...]
    subtotal: int
    shipping_fee: int
    total: int
    ship_to: ShipTo = field(default_factory=ShipTo)
    payment: PaymentRecord | None = None
    status: str = Order.Status.PLACED
    order: Order | None = None


@dataclass
class RecordOutcome:
    # created | updated | unchanged | conflict | error
    status: str
    order: Order | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    # What an update changed: order field names, "lines", "payment" (never values).
    changed: list[str] = field(default_factory=list)


def _texts(record: OrderRecord):
    """Every text of the record with its field name, for the card-number check."""
    yield "number", record.number
    for name in ("name", "postal_code", "address", "phone"):
        yield f"ship_to.{name}", getattr(record.ship_to, name)
    for index, line in enumerate(record.lines):
        yield f"lines.{index}.sku", line.sku
        yield f"lines.{index}.name", line.name
    if record.payment:
        for payment_field in fields(PaymentRecord):
            yield f"payment.{payment_field.name}", getattr(record.payment, payment_field.name)


def order_record_errors(record: OrderRecord) -> dict[str, list[str]]:
    """What is wrong with a record on its own (no database): field name → messages."""
    errors: dict[str, list[str]] = {}
    for name, text in _texts(record):
        if name != "payment.card_last4" and contains_card_number(text):
            errors.setdefault(name, []).append(str(CARD_NUMBER_MESSAGE))
    if not record.lines:
        errors["lines"] = [_("An order needs at least one line.")]
    for index, line in enumerate(record.lines):
        if line.quantity < 1:
            errors[f"lines.{index}.quantity"] = [_("A quantity is 1 or more.")]
    if record.placed_at.tzinfo is None:
        errors["placed_at"] = [
            _("Give the time with its time zone, e.g. 2026-12-01T10:00:00+09:00.")
        ]
    lines_sum = sum(line.unit_price * line.quantity for line in record.lines)
    if record.subtotal != lines_sum:
        errors["subtotal"] = [
            _("The subtotal %(subtotal)s is not the sum of the lines (%(lines)s).")
            % {"subtotal": record.subtotal, "lines": lines_sum}
        ]
    if record.total != record.subtotal + record.shipping_fee:
        errors["total"] = [
            _("The total %(total)s is not the subtotal plus the shipping fee (%(sum)s).")
            % {"total": record.total, "sum": record.subtotal + record.shipping_fee}
        ]
    if record.payment and record.payment.card_last4:
        try:
            validate_last4(record.payment.card_last4)
        except ValidationError as exc:
            errors["payment.card_last4"] = exc.messages
    return errors


def erased_message() -> str:
    return _("This person's data was erased: no order can be recorded for them.")


def refusal_of(customer_id: int, status: str, existing: Order | None) -> str:
    """Why this person's order cannot be recorded now, or "" when it can. Nothing is recorded for
    an erased person (their orders are kept without personal fields for the tax hold); a
    restricted person cannot order, but an order placed before the restriction may still be
    brought up to date (shipped, delivered, cancelled)."""
    if status == Customer.Status.ERASED or (existing and existing.use_suspended):
        return erased_message()
    if status == Customer.Status.RESTRICTED and (
        existing is None or existing.customer_id != customer_id
    ):
        return _("This customer cannot place orders (account restricted).")
    return ""


def _order_fields(record: OrderRecord) -> dict:
    return {
        "customer_id": record.customer_id,
        "number": record.number,
        "status": record.status,
        "subtotal": record.subtotal,
        "shipping_fee": record.shipping_fee,
        "total": record.total,
        "ship_name": record.ship_to.name,
        "ship_postal_code": record.ship_to.postal_code,
        "ship_address": record.ship_to.address,
        "ship_phone": record.ship_to.phone,
        "placed_at": record.placed_at,
    }


def _payment_fields(record: OrderRecord) -> dict:
    payment = record.payment
    return {
        "method": payment.method,
        "card_brand": payment.card_brand,
        "card_last4": payment.card_last4,
        "reference": payment.reference,
        "status": payment.status,
        "amount": record.total,
    }


def _lines_of(record: OrderRecord) -> list[tuple]:
    return [(line.sku, line.name, line.unit_price, line.quantity) for line in record.lines]


def _changed(record: OrderRecord, order: Order) -> list[str]:
    """The names of what differs between the record and the stored order (which has its lines
    and payment loaded)."""
    changed = [
        name.removesuffix("_id")
        for name, value in _order_fields(record).items()
        if getattr(order, name) != value
    ]
    stored_lines = [
        (line.sku, line.product_name, line.unit_price, line.quantity)
        for line in sorted(order.lines.all(), key=lambda line: line.pk)
    ]
    if stored_lines != _lines_of(record):
        changed.append("lines")
    stored_payment = getattr(order, "payment", None)
    if record.payment is None:
        pass  # a record without payment leaves the stored one as it is
    elif stored_payment is None or any(
        getattr(stored_payment, name) != value for name, value in _payment_fields(record).items()
    ):
        changed.append("payment")
    return changed


def _create_together(records: list[OrderRecord]) -> list[Order]:
    """Insert new orders, their lines and their payments in one statement (PostgreSQL's
    data-modifying CTEs, rows passed as arrays), and return the orders with their ids. The
    orders' numbers are unique (checked before), so lines and payments find their order by it.
    Only column names from the models and placeholders go into the text."""
    if not records:
        return []
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    order_names = list(_order_fields(records[0]))
    order_types = {
        "customer_id": "bigint", "subtotal": "integer", "shipping_fee": "integer",
        "total": "integer", "placed_at": "timestamptz",
    }  # fmt: skip
    paid = [record for record in records if record.payment is not None]
    params: list = [[_order_fields(record)[name] for record in records] for name in order_names]
    order_columns = ", ".join(column(Order, name) for name in order_names)
    unnest = ", ".join(f"%s::{order_types.get(name, 'text')}[]" for name in order_names)
    number = column(Order, "number")
    pk = quote(Order._meta.pk.column)
    suspended = column(Order, "use_suspended")
    parts = [
        f"o AS (INSERT INTO {table(Order)} ({order_columns}, {suspended}) "  # noqa: S608
        f"SELECT *, false FROM unnest({unnest}) RETURNING {pk}, {number})"
    ]
    lines = [(record.number, line) for record in records for line in record.lines]
    params += [
        [number for number, _line in lines],
        [line.sku for _number, line in lines],
        [line.name for _number, line in lines],
        [line.unit_price for _number, line in lines],
        [line.quantity for _number, line in lines],
    ]
    line_columns = ", ".join(
        column(OrderLine, name)
        for name in ("order", "sku", "product_name", "unit_price", "quantity")
    )
    parts.append(
        f"l AS (INSERT INTO {table(OrderLine)} ({line_columns}) "  # noqa: S608
        f"SELECT o.{pk}, v.sku, v.name, "
        f"v.unit_price, v.quantity FROM unnest(%s::text[], %s::text[], %s::text[], "
        f"%s::integer[], %s::integer[]) WITH ORDINALITY "
        f"AS v(number, sku, name, unit_price, quantity, position) "
        # In the order sent: the stored lines, read back by id, compare with a resent order's.
        f"JOIN o ON o.{number} = v.number ORDER BY v.position)"
    )
    if paid:
        payment_names = list(_payment_fields(paid[0]))
        params += [timezone.now(), [record.number for record in paid]]
        params += [[_payment_fields(record)[name] for record in paid] for name in payment_names]
        payment_types = {"amount": "integer"}
        payment_columns = ", ".join(
            column(Payment, name) for name in ["order", *payment_names, "created_at"]
        )
        aliases = ", ".join(f"p{i}" for i in range(len(payment_names)))
        unnest = ", ".join(f"%s::{payment_types.get(name, 'text')}[]" for name in payment_names)
        parts.append(
            f"p AS (INSERT INTO {table(Payment)} ({payment_columns}) "  # noqa: S608
            f"SELECT o.{pk}, "
            f"{aliases}, %s FROM unnest(%s::text[], {unnest}) AS v(number, {aliases}) "
            f"JOIN o ON o.{number} = v.number)"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {pk}, {number} FROM o", params)  # noqa: S608
        ids = {row_number: row_pk for row_pk, row_number in cursor.fetchall()}
    orders = [Order(pk=ids[record.number], **_order_fields(record)) for record in records]
    for order in orders:
        order._state.adding = False
        order._state.db = connection.alias
    return orders


# savepoint=False: inside a caller's transaction (the ingest's, with its id mappings) a failure
# rolls the whole of it back anyway, and a savepoint would cost two round trips per order.
@transaction.atomic(savepoint=False)
def orders_record(
    *,
    records: list[OrderRecord],
    locked_statuses: dict[int, str] | None = None,
    numbers_taken: dict[str, int] | None = None,
) -> list[RecordOutcome]:
    """Create or bring up to date each order as recorded; one outcome per record, in order.

    The records' customers are locked (in primary-key order, before anything else of theirs, as
    ``apps.core.locks`` asks) and their state read under the lock, so an erasure or restriction
    that commits meanwhile is seen. A record with errors or a refused customer changes nothing;
    the others are written. An existing order must come with its ``lines`` and ``payment``
    loaded (``Order.objects.select_related("payment").prefetch_related("lines")``).

    A caller that has already, in this transaction, locked the customers (``locked_statuses``:
    customer id → status, read under the lock) or read which orders hold the records' numbers
    (``numbers_taken``: number → order id) passes them, and the query is not run twice: the
    storefront API does both in the queries that resolve its own ids.
    """
    if locked_statuses is None:
        locked_statuses = dict(
            Customer.objects.select_for_update(of=("self",))
            .filter(pk__in={record.customer_id for record in records})
            .order_by("pk")
            .values_list("pk", "status")
        )
    if numbers_taken is None:
        numbers_taken = dict(
            Order.objects.filter(number__in={record.number for record in records}).values_list(
                "number", "pk"
            )
        )
    outcomes: list[RecordOutcome | None] = [None] * len(records)
    # Order numbers are the shop's one series: a number another order has is refused, as is the
    # same number twice in one batch.
    taken = dict(numbers_taken)
    to_create: list[tuple[int, OrderRecord]] = []
    to_update: list[tuple[int, OrderRecord, list[str]]] = []
    for index, record in enumerate(records):
        errors = order_record_errors(record)
        status = locked_statuses.get(record.customer_id)
        if status is None:
            errors.setdefault("customer", []).append(_("There is no such customer."))
        owner = taken.get(record.number)
        if owner is not None and owner != (record.order.pk if record.order else None):
            errors.setdefault("number", []).append(
                _("Another order has this number already: order numbers are unique.")
            )
        if errors:
            outcomes[index] = RecordOutcome("error", errors=errors)
            continue
        reason = refusal_of(record.customer_id, status, record.order)
        if reason:
            outcomes[index] = RecordOutcome("conflict", errors={"customer": [reason]})
        elif record.order is None:
            to_create.append((index, record))
            taken[record.number] = 0  # claimed by this batch
        else:
            taken[record.number] = record.order.pk
            changed = _changed(record, record.order)
            if changed:
                to_update.append((index, record, changed))
            else:
                outcomes[index] = RecordOutcome("unchanged", order=record.order)

    # (order, record, what to write besides the order row), for every order written.
    written: list[tuple[Order, OrderRecord, set[str]]] = []
    if connection.vendor == "postgresql":
        # New orders with their lines and payments in one statement: the storefront's single
        # order is mostly this, and each statement costs a round trip and its compiling.
        created = _create_together([record for _index, record in to_create])
        for (index, _record), order in zip(to_create, created, strict=True):
            outcomes[index] = RecordOutcome("created", order=order)
    else:
        created = Order.objects.bulk_create(
            Order(**_order_fields(record)) for _index, record in to_create
        )
        for (index, record), order in zip(to_create, created, strict=True):
            outcomes[index] = RecordOutcome("created", order=order)
            written.append((order, record, {"lines", "payment"}))
    updated, updated_ids = [], set()
    for index, record, changed in to_update:
        order = record.order
        for name, value in _order_fields(record).items():
            setattr(order, name, value)
        updated.append(order)
        updated_ids.add(order.pk)
        outcomes[index] = RecordOutcome("updated", order=order, changed=changed)
        written.append((order, record, set(changed)))
    if updated:
        Order.objects.bulk_update(updated, list(_order_fields(records[0])))

    # Lines: all of a new order's; the whole set again for an order whose lines changed.
    relined = [
        order.pk for order, _r, parts in written if "lines" in parts and order.pk in updated_ids
    ]
    if relined:
        OrderLine.objects.filter(order_id__in=relined).delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=line.sku,
            product_name=line.name,
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for order, record, parts in written
        if "lines" in parts
        for line in record.lines
    )

    new_payments, changed_payments = [], []
    for order, record, parts in written:
        if "payment" not in parts or record.payment is None:
            continue
        stored = getattr(order, "payment", None) if order.pk in updated_ids else None
        if stored is None:
            new_payments.append(Payment(order=order, **_payment_fields(record)))
        else:
            for name, value in _payment_fields(record).items():
                setattr(stored, name, value)
            changed_payments.append(stored)
    Payment.objects.bulk_create(new_payments)
    if changed_payments:
        Payment.objects.bulk_update(changed_payments, list(_payment_fields(records[0])))
    if written:
        logger.info("orders recorded created=%s updated=%s", len(created), len(updated))
    return outcomes  # type: ignore[return-value]


def order_record(
    *,
    customer: Customer,
    number: str,
    placed_at: datetime.datetime,
    lines: list[LineRecord],
    subtotal: int,
    shipping_fee: int,
    total: int,
    ship_to: ShipTo,
    payment: PaymentRecord | None,
    status: str = Order.Status.PLACED,
    order: Order | None = None,
) -> Order:
    """One order as a storefront sold it (``order``: the stored one it replaces). Raises
    ``OrderRefused`` for a person who cannot order and ``ValidationError`` for a record that does
    not add up or holds a card number; nothing is written then."""
    if order is not None:
        order = Order.objects.select_related("payment").prefetch_related("lines").get(pk=order.pk)
    (outcome,) = orders_record(
        records=[
            OrderRecord(
                customer_id=customer.pk,
                number=number,
                placed_at=placed_at,
                lines=tuple(lines),
                subtotal=subtotal,
                shipping_fee=shipping_fee,
                total=total,
                ship_to=ship_to,
                payment=payment,
                status=status,
                order=order,
            )
        ]
    )
    if outcome.status == "conflict":
        raise OrderRefused(outcome.errors["customer"][0])
    if outcome.status == "error":
        raise ValidationError(outcome.errors)
    return outcome.order
