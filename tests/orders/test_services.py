import pytest
from django.core.exceptions import ValidationError

from apps.customers.services import customer_restrict
from apps.orders.models import Order, OrderLine, Payment
from apps.orders.services import LineItem, OrderRefused, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

CARD = PaymentInput(method="card", card_brand="VISA", card_last4="4242")


@pytest.fixture
def customer():
    return CustomerFactory()


@pytest.fixture
def address(customer):
    return AddressFactory(customer=customer, is_default=True)


def test_order_keeps_a_snapshot_and_totals(customer, address):
    tea, cup = ProductFactory(price=1200), ProductFactory(price=3800)
    order = order_place(
        customer=customer,
        items=[LineItem(tea.pk, 2), LineItem(cup.pk, 1)],
        ship_to=address,
        payment=CARD,
    )
    assert order.subtotal == 6200 and order.shipping_fee == 0 and order.total == 6200
    assert order.ship_name == "山田 花子" and "〒150-0001" in order.ship_address
    address.city = "港区"
    address.save()
    order.refresh_from_db()
    assert "渋谷区" in order.ship_address
    assert order.payment.card_last4 == "4242"
    assert order.lines.count() == 2


def test_small_orders_pay_shipping(customer, address):
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory(price=1000).pk, 1)],
        ship_to=address,
        payment=CARD,
    )
    assert order.shipping_fee == 600 and order.total == 1600


def test_restricted_customer_cannot_order(customer, address):
    product = ProductFactory()
    customer_restrict(customer=customer, reason="Resale (Terms §7)")
    with pytest.raises(OrderRefused):
        order_place(
            customer=customer, items=[LineItem(product.pk, 1)], ship_to=address, payment=CARD
        )
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "payment",
    [
        PaymentInput(method="card", card_brand="4242424242424242", card_last4="4242"),
        PaymentInput(
            method="card", card_brand="VISA", card_last4="4242", reference="4111 1111 1111 1111"
        ),
        PaymentInput(method="card", card_brand="VISA 5555-5555-5555-4444", card_last4="4444"),
    ],
)
def test_a_full_card_number_is_refused_and_nothing_stored(customer, address, payment):
    product = ProductFactory()
    with pytest.raises(ValidationError) as exc:
        order_place(
            customer=customer, items=[LineItem(product.pk, 1)], ship_to=address, payment=payment
        )
    assert "card number" in str(exc.value)
    assert (
        not Order.objects.exists()
        and not Payment.objects.exists()
        and not OrderLine.objects.exists()
    )


def test_last4_must_be_four_digits_and_nothing_is_written(customer, address):
    product = ProductFactory()
    with pytest.raises(ValidationError):
        order_place(
            customer=customer,
            items=[LineItem(product.pk, 1)],
            ship_to=address,
            payment=PaymentInput(method="card", card_brand="VISA", card_last4="42x"),
        )
    assert not Order.objects.exists()


def test_another_customers_address_is_refused(customer):
    other_address = AddressFactory()
    with pytest.raises(ValidationError):
        order_place(
            customer=customer,
            items=[LineItem(ProductFactory().pk, 1)],
            ship_to=other_address,
            payment=CARD,
        )
    assert not Order.objects.exists()


def test_order_numbers_are_unique_and_readable(customer, address):
    product = ProductFactory()
    numbers = {
        order_place(
            customer=customer, items=[LineItem(product.pk, 1)], ship_to=address, payment=CARD
        ).number
        for _ in range(20)
    }
    assert len(numbers) == 20
    assert all(len(n) == 13 and n[6] == "-" for n in numbers)
