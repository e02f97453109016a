"""A member with a long history, built with bulk inserts: the per-row services would make the
page tests minutes long, and the pages only read these rows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from apps.consents.models import Purpose, Source
from apps.consents.services import Evidence, consent_set
from apps.orders.models import Order
from apps.privacy_requests.services import privacy_request_create_from_mypage
from tests.factories import AddressFactory, CustomerFactory


def orders_for(customer, n: int, *, start: int = 0) -> None:
    now = timezone.now()
    Order.objects.bulk_create(
        [
            Order(
                number=f"S{customer.pk:06d}-{start + i:05d}",
                customer=customer,
                subtotal=1000 + i,
                shipping_fee=500,
                total=1500 + i,
                placed_at=now - datetime.timedelta(hours=start + i),
            )
            for i in range(n)
        ]
    )


def member_with_history(n: int):
    """A member with n orders, n answers per opt-in purpose and n privacy requests."""
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default=True)
    orders_for(customer, n)
    purposes = list(Purpose.objects.filter(requires_opt_in=True, is_active=True))
    for i in range(n):
        for purpose in purposes:
            consent_set(
                purpose=purpose,
                granted=i % 2 == 0,
                source=Source.MYPAGE,
                customer=customer,
                evidence=Evidence(wording="w"),
            )
        privacy_request_create_from_mypage(customer=customer, kind="purpose_notification")
    return customer
