"""``customers_record_create``: the customers and their addresses of a batch (one statement on
PostgreSQL), each address on its own person, the first one the default."""

from __future__ import annotations

import datetime

import pytest

from apps.customers.models import Address, Customer
from apps.customers.services.records import customers_record_create, record_clean

pytestmark = pytest.mark.django_db


def _address(n: int) -> dict:
    return {
        "recipient_name": f"山田 {n}",
        "postal_code": f"150-000{n}",
        "prefecture": "東京都",
        "city": "渋谷区",
        "line1": f"神宮前{n}-2-3",
        "phone": "090-1234-5678",
    }


def test_each_customer_gets_its_own_addresses_the_first_the_default():
    records = [
        record_clean(
            kind="guest", family_name="山田", email="a@example.jp", addresses=[_address(1)]
        ),
        record_clean(kind="member", family_name="佐藤", phone="03-1234-5678"),
        record_clean(
            kind="guest",
            family_name="鈴木",
            date_of_birth=datetime.date(1990, 4, 1),
            addresses=[_address(2), _address(3)],
        ),
    ]
    customers = customers_record_create(records=records)

    assert [c.family_name for c in customers] == ["山田", "佐藤", "鈴木"]
    stored = {c.pk: c for c in Customer.objects.filter(pk__in=[c.pk for c in customers])}
    for customer, record in zip(customers, records, strict=True):
        row = stored[customer.pk]
        assert (row.family_name, row.email, row.phone, row.date_of_birth) == (
            record.family_name,
            record.email,
            record.phone,
            record.date_of_birth,
        )
        assert (row.status, row.acquired_via) == (Customer.Status.ACTIVE, record.acquired_via)
        assert row.created_at is not None and row.user_id is None
        addresses = list(Address.objects.filter(customer=row).order_by("pk"))
        assert [a.line1 for a in addresses] == [a.line1 for a in record.addresses]
        assert [a.is_default for a in addresses] == [i == 0 for i in range(len(addresses))]
    assert Address.objects.count() == 3
