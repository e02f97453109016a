"""apps.core.compiled.CompiledQuery: a queryset compiled to SQL once, then run with each call's
values, answering exactly what the queryset would."""

from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from apps.core.compiled import CompiledQuery
from apps.customers.models import Address, Customer, User
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def compiles(call) -> int:
    """How many times Django compiled SQL while `call` ran."""
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql):
        call()
        return SQLCompiler.as_sql.call_count


def test_model_instances_with_their_select_related_objects_as_the_queryset_gives_them():
    query = CompiledQuery(lambda pk: User.objects.select_related("customer").filter(pk=pk), pk=int)
    first, second = CustomerFactory(family_name="山田"), CustomerFactory(family_name="佐藤")

    for customer in (first, second):
        [user] = query(pk=customer.user_id)
        expected = User.objects.select_related("customer").get(pk=customer.user_id)
        assert user == expected and user.email == expected.email
        assert user._state.db == "default" and not user._state.adding
        with CaptureQueriesContext(connection) as captured:
            assert user.customer.family_name == customer.family_name  # no further query
        assert len(captured) == 0
    assert query(pk=0) == [] and query.first(pk=0) is None
    assert query.first(pk=first.user_id) == first.user


def test_ordering_and_limit_are_kept_and_each_call_sends_one_statement():
    customer = CustomerFactory()
    addresses = [AddressFactory(customer=customer) for _ in range(3)]
    AddressFactory()  # someone else's
    query = CompiledQuery(
        lambda customer_id: Address.objects.filter(customer_id=customer_id).order_by("-pk")[:2],
        customer_id=int,
    )
    with CaptureQueriesContext(connection) as captured:
        found = query(customer_id=customer.pk)
    assert [a.pk for a in found] == [addresses[2].pk, addresses[1].pk]
    assert len(captured) == 1


def test_values_list_tuples_and_a_string_value():
    customer = CustomerFactory(email="hanako@example.jp")
    query = CompiledQuery(
        lambda email, status: Customer.objects.filter(email=email, status=status).values_list(
            "pk", "email"
        ),
        email=str,
        status=str,
    )
    assert query(email="hanako@example.jp", status=Customer.Status.ACTIVE.value) == [
        (customer.pk, "hanako@example.jp")
    ]
    assert query(email="hanako@example.jp", status=Customer.Status.ERASED.value) == []


def test_values_list_with_an_aggregate_keeps_the_order_the_names_were_given_in():
    from django.db.models import Count

    customer = CustomerFactory()
    AddressFactory(customer=customer), AddressFactory(customer=customer)
    counted = CompiledQuery(
        lambda customer_id: (
            Address.objects.filter(customer_id=customer_id)
            .values("customer_id")
            .annotate(n=Count("pk"))
            .values_list("n", "customer_id")
        ),
        customer_id=int,
    )
    assert counted(customer_id=customer.pk) == [(2, customer.pk)]


def test_a_query_without_values_is_compiled_once_too():
    CustomerFactory(family_name="山田")
    everyone = CompiledQuery(lambda: Customer.objects.order_by("pk").values_list("family_name"))
    assert everyone() == list(Customer.objects.order_by("pk").values_list("family_name"))
    assert compiles(everyone) == 0


def test_django_compiles_the_sql_once_however_often_it_runs():
    customer = CustomerFactory()
    query = CompiledQuery(lambda pk: Customer.objects.filter(pk=pk), pk=int)
    assert compiles(lambda: query(pk=customer.pk)) == 1
    assert compiles(lambda: [query(pk=customer.pk) for _ in range(5)]) == 0


def test_a_value_that_would_change_the_sqls_shape_is_refused():
    query = CompiledQuery(lambda pk: Customer.objects.filter(pk=pk), pk=int)
    for wrong in (None, "1", True, [1, 2]):
        with pytest.raises(TypeError):
            query(pk=wrong)
    with pytest.raises(TypeError):
        query(id=1)


def test_a_builder_that_does_not_bind_its_value_is_refused():
    ignores = CompiledQuery(lambda pk: Customer.objects.filter(pk=1), pk=int)
    with pytest.raises(ImproperlyConfigured, match="'pk' is not a parameter"):
        ignores(pk=1)
    with pytest.raises(ImproperlyConfigured):
        CompiledQuery(lambda pk: Customer.objects.filter(pk=pk), pk=float)
    with pytest.raises(ImproperlyConfigured):
        CompiledQuery(lambda pk: Customer.objects.filter(pk=pk), customer_id=int)
