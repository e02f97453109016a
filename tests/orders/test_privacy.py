"""The orders eraser: one UPDATE whatever the number of orders, and the same hold dates as
`tax_hold_until`: seven years from the tax return deadline of the order's business year, the
day counted in the shop's time zone."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.orders.models import Order
from apps.orders.privacy import erase, tax_hold_until
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
# When (in Tokyo) -> the last day of the hold, with a March year end and two months to file.
HOLDS = [
    (datetime.datetime(2024, 4, 10, 12, 0, tzinfo=JST), datetime.date(2032, 5, 31)),
    # The last day of a business year, and the first of the next, an hour apart in Tokyo; in
    # UTC both are 31 March.
    (datetime.datetime(2024, 3, 31, 23, 30, tzinfo=JST), datetime.date(2031, 5, 31)),
    (datetime.datetime(2024, 4, 1, 0, 30, tzinfo=JST), datetime.date(2032, 5, 31)),
    (datetime.datetime(2023, 12, 31, 20, 0, tzinfo=JST), datetime.date(2031, 5, 31)),
    (datetime.datetime(2024, 2, 29, 12, 0, tzinfo=JST), datetime.date(2031, 5, 31)),
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


def test_hold_dates_in_python_and_in_sql_are_the_law_s():
    customer = CustomerFactory()
    orders = orders_for(customer, len(HOLDS))
    for order, (placed, _) in zip(orders.order_by("pk"), HOLDS, strict=True):
        Order.objects.filter(pk=order.pk).update(placed_at=placed)
    report = erase(customer)
    for order, (placed, until) in zip(orders.order_by("pk"), HOLDS, strict=True):
        assert tax_hold_until(placed) == until, placed
        assert order.hold_until == until, placed  # written by the eraser's SQL
        assert order.use_suspended and order.ship_name == "" and order.payment.card_last4 == ""
    assert report.anonymised == {"orders.Order": 5, "orders.Payment": 5}
    assert report.kept["orders.Order"][2] == datetime.date(2032, 5, 31)


@pytest.mark.parametrize(
    ("year_end", "placed", "until"),
    [
        (12, datetime.datetime(2024, 12, 31, 9, 0, tzinfo=JST), datetime.date(2032, 2, 29)),
        (12, datetime.datetime(2025, 1, 1, 9, 0, tzinfo=JST), datetime.date(2033, 2, 28)),
        (9, datetime.datetime(2024, 10, 1, 9, 0, tzinfo=JST), datetime.date(2032, 11, 30)),
    ],
)
def test_the_business_year_is_a_setting(settings, year_end, placed, until):
    settings.FISCAL_YEAR_END_MONTH = year_end
    customer = CustomerFactory()
    order = orders_for(customer, 1).get()
    Order.objects.filter(pk=order.pk).update(placed_at=placed)
    erase(customer)
    order.refresh_from_db()
    assert tax_hold_until(placed) == until
    assert order.hold_until == until


def test_the_number_of_queries_does_not_grow_with_the_orders():
    one, many = CustomerFactory(), CustomerFactory()
    orders_for(one, 1)
    orders_for(many, 30)
    assert queries_to_erase(one) == queries_to_erase(many)
