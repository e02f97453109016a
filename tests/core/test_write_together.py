"""apps.core.db.write_together: an eraser's deletes and updates of several tables in one
statement on PostgreSQL (one per write elsewhere), each write's row count returned in order."""

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from apps.core.db import write_together
from apps.customers.models import Address, Customer, Inquiry
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_deletes_and_updates_of_several_tables_return_their_counts_in_order():
    kept, gone = CustomerFactory(), CustomerFactory()
    AddressFactory(customer=gone), AddressFactory(customer=gone), AddressFactory(customer=kept)
    Inquiry.objects.create(customer=gone, name="山田 花子", email="a@example.jp", message="m")

    with CaptureQueriesContext(connection) as queries:
        counts = write_together(
            Address.objects.filter(customer=gone),
            (Inquiry.objects.filter(customer=gone), {"name": "", "message": ""}),
            # Values may be expressions, and a filter may follow a relation.
            (
                Customer.objects.filter(pk=gone.pk, user__is_active=True),
                {"family_name": Concat(Value("x"), F("given_name"))},
            ),
            Address.objects.none(),  # matches nothing by construction
        )

    assert counts == [2, 1, 1, 0]
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    assert not Address.objects.filter(customer=gone).exists()
    assert Address.objects.filter(customer=kept).count() == 1
    assert Inquiry.objects.get(customer=gone).name == ""
    gone.refresh_from_db()
    assert gone.family_name == "x" + gone.given_name
    assert Customer.objects.get(pk=kept.pk).family_name == kept.family_name


def test_nothing_to_write_runs_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert write_together() == []
        assert write_together(Address.objects.none()) == [0]
    assert len(queries) == 0
