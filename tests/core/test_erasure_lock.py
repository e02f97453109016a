"""An erasure locks the person before any eraser runs: an order placed while the erasers run
waits for the erasure to commit, then is refused, so no shipping address slips in behind the
orders eraser."""

import threading

import pytest
from django.db import connection, connections

from apps.core import privacy
from apps.core.privacy import ErasureReport, personal_data_erase
from apps.customers.models import Customer
from apps.orders.models import Order
from apps.orders.services import LineItem, OrderRefused, PaymentInput, order_place
from tests.conftest import wait_until
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = [pytest.mark.postgres]


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction: take a fresh one each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def order_during_erasure():
    """Registers, for one test, an eraser that runs just after the orders eraser and places an
    order for the person from another connection, waiting until that order is either stuck
    behind a lock or done."""
    outcome = {}

    def place(customer, address, product):
        try:
            order_place(
                customer=customer,
                items=[LineItem(product.pk, 1)],
                ship_to=address,
                payment=PaymentInput(method="bank_transfer"),
            )
            outcome["result"] = "placed"
        except OrderRefused:
            outcome["result"] = "refused"
        finally:
            connections.close_all()

    def probe(person, *, dry_run=False):
        args = (person, outcome["address"], outcome["product"])
        outcome["thread"] = threading.Thread(target=place, args=args)
        outcome["thread"].start()
        wait_until(lambda: "result" in outcome or waiting_on_a_lock() == 1, timeout=10)
        return ErasureReport()

    privacy.register(
        "probe", exporter=lambda _: {}, eraser=probe, covers={}, runs_after=("orders",)
    )
    yield outcome
    del privacy._registry["probe"]


def test_an_order_placed_during_an_erasure_waits_and_is_refused(
    transactional_db, order_during_erasure
):
    customer = CustomerFactory()
    order_during_erasure["address"] = AddressFactory(customer=customer, is_default=True)
    order_during_erasure["product"] = ProductFactory()

    personal_data_erase(customer_id=customer.pk)
    order_during_erasure["thread"].join(10)

    assert order_during_erasure["result"] == "refused"
    assert Customer.objects.get(pk=customer.pk).status == Customer.Status.ERASED
    assert not Order.objects.filter(customer=customer).exists()
