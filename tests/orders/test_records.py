"""``orders_record``: new orders with their lines and payments (one statement on PostgreSQL)."""

from __future__ import annotations

import datetime

import pytest

from apps.orders.models import Order, Payment
from apps.orders.records import LineRecord, OrderRecord, PaymentRecord, ShipTo, orders_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PLACED = datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.UTC)


def _record(customer, number, lines, *, payment=True):
    subtotal = sum(price * quantity for _name, price, quantity in lines)
    return OrderRecord(
        customer_id=customer.pk,
        number=number,
        placed_at=PLACED,
        lines=tuple(LineRecord(f"SKU-{name}", name, price, q) for name, price, q in lines),
        subtotal=subtotal,
        shipping_fee=600,
        total=subtotal + 600,
        ship_to=ShipTo(name="山田 花子", address="東京都渋谷区神宮前1-2-3"),
        payment=PaymentRecord(method="card", card_brand="JCB", card_last4="1234", status="captured")
        if payment
        else None,
        status=Order.Status.PAID,
    )


def test_new_orders_get_their_own_lines_and_payment():
    first, second = CustomerFactory(), CustomerFactory()
    records = [
        _record(first, "A-1", [("煎茶", 1200, 2), ("湯呑み", 3800, 1), ("急須", 5200, 1)]),
        _record(second, "A-2", [("ほうじ茶", 900, 3)], payment=False),
        _record(second, "A-3", [("抹茶", 2500, 1), ("茶筅", 3000, 1), ("棗", 1800, 2)]),
    ]
    outcomes = orders_record(records=records)

    assert [outcome.status for outcome in outcomes] == ["created"] * 3
    for outcome, record in zip(outcomes, records, strict=True):
        stored = Order.objects.get(pk=outcome.order.pk)
        assert (stored.number, stored.customer_id, stored.total) == (
            record.number,
            record.customer_id,
            record.total,
        )
        assert stored.ship_name == "山田 花子" and not stored.use_suspended
        # In the order sent (read back by id): a resent order compares equal, line by line.
        assert list(
            stored.lines.order_by("pk").values_list("product_name", "unit_price", "quantity")
        ) == [(line.name, line.unit_price, line.quantity) for line in record.lines]
    paid = Payment.objects.get(order__number="A-1")
    assert (paid.amount, paid.card_last4, paid.status, paid.created_at is not None) == (
        records[0].total,
        "1234",
        "captured",
        True,
    )
    assert not Payment.objects.filter(order__number="A-2").exists()
    assert Payment.objects.get(order__number="A-3").amount == records[2].total
