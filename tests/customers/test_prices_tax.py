"""Prices on the member's pages say they include consumption tax (税込), as Japanese price
display rules expect."""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored():
    """A request in Japanese leaves Japanese active in this thread; later tests expect English."""
    language = translation.get_language()
    yield
    translation.activate(language)


def test_order_pages_say_prices_include_tax(client):
    customer = CustomerFactory()
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory(price=2400).pk, 1)],
        ship_to=AddressFactory(customer=customer, is_default=True),
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    client.force_login(customer.user)
    for url in (
        reverse("mypage:overview"),
        reverse("orders:list"),
        reverse("orders:detail", args=[order.number]),
    ):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        assert "税込" in page, url
