"""My Page costs the same number of queries however long a member's history is, and every list
that grows with it is paginated."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.scale.helpers import member_with_history, orders_for

pytestmark = pytest.mark.django_db

PAGES = [
    "mypage:overview",
    "orders:list",
    "consents:mypage",
    "privacy_requests:list",
    "customers:profile",
    "customers:addresses",
]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("name", PAGES)
def test_page_queries_do_not_grow_with_the_members_history(client, name):
    url = reverse(name)
    small, large = member_with_history(1), member_with_history(25)
    client.force_login(small.user)
    client.get(url)  # the session's first touch (visitor link, rate limits) is not the page
    one = queries_for(client, url)
    client.force_login(large.user)
    client.get(url)
    many = queries_for(client, url)
    assert one == many, f"{url}: {one} queries with 1 of each, {many} with 25"


def test_order_history_is_paginated(client):
    customer = member_with_history(0)
    orders_for(customer, 45)
    client.force_login(customer.user)

    first = client.get(reverse("orders:list"))
    assert len(first.context["orders"]) == 20
    assert first.context["page_obj"].paginator.num_pages == 3
    assert "?page=2" in first.content.decode()
    last = client.get(reverse("orders:list"), {"page": 3})
    assert len(last.context["orders"]) == 5
    # Newest first across pages: the last page holds the oldest orders.
    assert list(last.context["orders"])[-1].number.endswith("-00044")
    # A page past the end (or junk) shows the last (first) page, not an error.
    assert client.get(reverse("orders:list"), {"page": 99}).context["page_obj"].number == 3
    assert client.get(reverse("orders:list"), {"page": "x"}).context["page_obj"].number == 1


def test_privacy_request_list_is_paginated(client):
    customer = member_with_history(23)
    client.force_login(customer.user)

    first = client.get(reverse("privacy_requests:list"))
    assert len(first.context["privacy_requests"]) == 20
    assert "?page=2" in first.content.decode()
    second = client.get(reverse("privacy_requests:list"), {"page": 2})
    assert len(second.context["privacy_requests"]) == 3
