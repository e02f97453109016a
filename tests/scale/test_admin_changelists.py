"""The admin's change lists of the tables that grow with the shop cost the same number of queries
for 1 row as for 20 (no query per row), and an unfiltered list of a large table is not counted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from apps.audit.services import access_log_record
from apps.consents.models import Purpose, Source
from apps.consents.services import Evidence, consent_set
from apps.customers.services import inquiry_create
from apps.marketing.models import MailMagazine
from apps.marketing.services import subscription_subscribe_member
from apps.privacy_requests.services import privacy_request_create_from_mypage
from tests.factories import CustomerFactory, make_staff
from tests.marketing.helpers import magazine
from tests.scale.helpers import orders_for

pytestmark = pytest.mark.django_db


def _customers(n):
    CustomerFactory.create_batch(n)


def _orders(n):
    for _ in range(n):
        orders_for(CustomerFactory(), 1)


def _inquiries(n):
    for i in range(n):
        inquiry_create(name="山田 花子", email=f"q{i}@example.jp", topic="order", message="質問")


def _requests(n):
    for _ in range(n):
        privacy_request_create_from_mypage(customer=CustomerFactory(), kind="purpose_notification")


def _consents(n):
    purpose = Purpose.objects.filter(requires_opt_in=True).first()
    for _ in range(n):
        consent_set(
            purpose=purpose,
            granted=True,
            source=Source.MYPAGE,
            customer=CustomerFactory(),
            evidence=Evidence(wording="w"),
        )


def _subscriptions(n):
    weekly = MailMagazine.objects.filter(slug="weekly").first() or magazine()
    for _ in range(n):
        subscription_subscribe_member(customer=CustomerFactory(), magazine=weekly)


def _access_logs(n):
    access_log_record(
        staff_user_id=1, action="view", model_label="customers.Customer", object_ids=range(n)
    )


CHANGELISTS = {
    "customers_customer": _customers,
    "customers_user": _customers,
    "orders_order": _orders,
    "customers_inquiry": _inquiries,
    "privacy_requests_privacyrequest": _requests,
    "consents_consentevent": _consents,
    "consents_consentstate": _consents,
    "marketing_subscription": _subscriptions,
    "audit_accesslog": _access_logs,
}


def changelist_queries(client, name: str, **params) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(f"admin:{name}_changelist"), params)
    assert response.status_code == 200
    return (
        len(captured),
        len(response.context["cl"].result_list),
        [q["sql"] for q in captured.captured_queries],
    )


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_changelist_costs_the_same_for_1_and_20_rows(client, name):
    client.force_login(make_staff(superuser=True))
    make_rows = CHANGELISTS[name]
    make_rows(1)
    client.get(reverse(f"admin:{name}_changelist"))
    few, shown_few, _sql = changelist_queries(client, name)
    make_rows(19)
    many, shown_many, sql = changelist_queries(client, name)
    assert shown_many > shown_few
    assert few == many, "\n".join(sql)


@pytest.mark.postgres
@override_settings(ADMIN_ESTIMATED_COUNT_ABOVE=10)
@pytest.mark.parametrize(
    "name, table",
    [
        ("customers_customer", "customers_customer"),
        ("orders_order", "orders_order"),
        ("privacy_requests_privacyrequest", "privacy_requests_privacyrequest"),
    ],
)
def test_an_unfiltered_list_of_a_large_table_is_not_counted(client, name, table):
    client.force_login(make_staff(superuser=True))
    CHANGELISTS[name](30)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    _n, _shown, sql = changelist_queries(client, name)
    counts = [q for q in sql if "COUNT(" in q and f'FROM "{table}"' in q]
    assert counts == [], counts
    # A filtered list is short: it is counted exactly.
    _n, _shown, sql = changelist_queries(client, name, q="zzz-none")
    assert any("COUNT(" in q and f'FROM "{table}"' in q for q in sql)


def test_a_customers_page_shows_their_latest_orders_not_all(client):
    client.force_login(make_staff(superuser=True))
    customer = CustomerFactory()
    orders_for(customer, 45)
    orders_for(CustomerFactory(), 3)
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    formsets = [f.formset for f in response.context["inline_admin_formsets"]]
    orders = next(f for f in formsets if f.model._meta.label == "orders.Order")
    numbers = [form.instance.number for form in orders.forms]
    assert len(numbers) == 20
    assert numbers[0].endswith("-00000") and numbers[-1].endswith("-00019")  # newest first


@pytest.mark.django_db
def test_an_order_is_found_by_its_exact_number_through_the_index(admin_client):
    """A substring search read every order (1.8 s p95 at 5 million in bench_scale)."""
    customer = CustomerFactory()
    orders_for(customer, 12)  # numbers S<id>-00000 … S<id>-00011
    wanted = f"S{customer.pk:06d}-00001"
    url = reverse("admin:orders_order_changelist")
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(url, {"q": f" {wanted} "}).content.decode()
    assert f"{wanted}<" in page.replace("</a>", "<")
    assert f"S{customer.pk:06d}-00010" not in page and f"S{customer.pk:06d}-00011" not in page
    assert not any("LIKE" in q["sql"].upper() and "number" in q["sql"] for q in queries)
