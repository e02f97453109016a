"""The orders eraser: one UPDATE whatever the number of orders, and the same hold dates as
`tax_hold_until` (29 February included)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.orders.models import Order
from apps.orders.privacy import erase, tax_hold_until
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

PLACED = [
    datetime.datetime(2024, 2, 29, 12, 0, tzinfo=datetime.UTC),
    datetime.datetime(2023, 12, 31, 20, 0, tzinfo=datetime.UTC),
    datetime.datetime(2020, 2, 29, 23, 59, tzinfo=datetime.UTC),
]


def orders_for(customer, count):
    address = AddressFactory(customer=customer, is_default=True)
    product = ProductFactory()
    for _ in range(count):
        order_place(
            customer=customer,
            items=[LineItem(product.pk, 1)],
            ship_to=address,
            payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
        )
    return Order.objects.filter(customer=customer)


def queries_to_erase(customer) -> int:
    with CaptureQueriesContext(connection) as queries:
        erase(customer)
    return len(queries.captured_queries)


def test_hold_dates_match_tax_hold_until():
    customer = CustomerFactory()
    orders = orders_for(customer, len(PLACED))
    for order, placed in zip(orders.order_by("pk"), PLACED, strict=True):
        Order.objects.filter(pk=order.pk).update(placed_at=placed)
    report = erase(customer)
    for order in orders:
        assert order.hold_until == tax_hold_until(order.placed_at)
        assert order.use_suspended and order.ship_name == "" and order.payment.card_last4 == ""
    assert report.anonymised == {"orders.Order": 3, "orders.Payment": 3}
    assert report.kept["orders.Order"][2] == datetime.date(2031, 2, 28)


def test_the_number_of_queries_does_not_grow_with_the_orders():
    one, many = CustomerFactory(), CustomerFactory()
    orders_for(one, 1)
    orders_for(many, 30)
    assert queries_to_erase(one) == queries_to_erase(many)
