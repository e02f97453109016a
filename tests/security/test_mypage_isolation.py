"""A member only ever sees their own data: every /mypage/ URL that takes an id answers 404
for another member's id, with any method, and changes nothing. New My Page URLs are swept
automatically; a new kind of id must be added to OTHER_MEMBERS_IDS below."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.customers.models import Address
from apps.orders.models import Order
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def mypage_patterns():
    """(name, keyword names) of every URL under /mypage/ that takes arguments."""
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry.url_patterns, route, ns)
            elif isinstance(entry, URLPattern) and route.startswith("mypage/"):
                converters = entry.pattern.converters
                if converters and entry.name:
                    name = f"{namespace}:{entry.name}" if namespace else entry.name
                    found.append((name, sorted(converters)))

    walk(get_resolver().url_patterns, "", "")
    return found


@pytest.fixture
def two_members():
    me = CustomerFactory()
    AddressFactory(customer=me, is_default=True)
    other = CustomerFactory()
    address = AddressFactory(customer=other, is_default=True)
    AddressFactory(customer=other, is_default=False)
    order = order_place(
        customer=other,
        items=[LineItem(ProductFactory().pk, 1)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    from apps.privacy_requests import services as request_services

    privacy_request = request_services.privacy_request_create_from_mypage(
        customer=other, kind="disclosure", disclosure_form="electronic"
    )
    ids = {
        "pk": address.pk,
        "number": order.number,
        "reference": privacy_request.reference,
        "token": request_services.download_token(privacy_request=privacy_request),
    }
    return me, other, ids


def snapshot(customer):
    return (
        list(Address.objects.filter(customer=customer).order_by("pk").values()),
        list(Order.objects.filter(customer=customer).order_by("pk").values()),
    )


def test_the_sweep_sees_the_known_urls():
    names = {name for name, _ in mypage_patterns()}
    assert {"customers:address_edit", "customers:address_delete", "customers:address_default",
            "orders:detail"} <= names  # fmt: skip


def test_every_mypage_url_with_another_members_id_is_404(client, two_members):
    me, other, other_ids = two_members
    before = snapshot(other)
    client.force_login(me.user)
    for name, kwargs in mypage_patterns():
        missing = set(kwargs) - set(other_ids)
        assert not missing, f"{name}: add another member's {missing} to the sweep"
        url = reverse(name, kwargs={k: other_ids[k] for k in kwargs})
        statuses = {client.get(url).status_code, client.post(url, {}).status_code}
        # 405 is a method the view refuses before looking anything up.
        assert statuses <= {404, 405} and 404 in statuses, f"{url}: {statuses}"
    assert snapshot(other) == before


def test_my_own_ids_do_open(client, two_members):
    """The sweep above is not vacuous: the same URLs with the member's own ids work."""
    _me, other, other_ids = two_members
    client.force_login(other.user)
    assert client.get(reverse("customers:address_edit", args=[other_ids["pk"]])).status_code == 200
    assert client.get(reverse("orders:detail", args=[other_ids["number"]])).status_code == 200
