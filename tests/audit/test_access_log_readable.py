"""The access log reads as a record people can use: one row per page view (a list of 20
customers is one row holding 20 ids), the rows of one sitting grouped by a visit key that is
not the session key, staff by their login, models by their name, and "who looked at this
person" on a customer's page for the privacy officer only."""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.audit.models import AccessLog
from apps.core import roles
from tests.audit.test_admin_pages_read_as_words import visible_text
from tests.factories import AddressFactory, CustomerFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def japanese():
    with translation.override("ja"):
        yield


def test_a_visit_groups_the_page_views_of_one_sitting(client, django_user_model):
    customers = CustomerFactory.create_batch(3)
    support = make_staff(roles.SUPPORT)
    client.force_login(support)
    client.get(reverse("admin:customers_customer_changelist"))
    client.get(reverse("admin:customers_customer_change", args=[customers[0].pk]))
    session_key = client.session.session_key

    other = make_staff(roles.SUPPORT)
    client.force_login(other)
    client.get(reverse("admin:customers_customer_change", args=[customers[1].pk]))

    listed, opened, elsewhere = AccessLog.objects.filter(model_label="customers.Customer").order_by(
        "id"
    )
    # One row for the list of three, not three rows.
    assert sorted(listed.ids) == sorted(str(c.pk) for c in customers)
    assert listed.visit and listed.visit == opened.visit != elsewhere.visit
    assert session_key not in listed.visit and listed.visit not in session_key

    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    response = client.get(
        reverse("admin:audit_accesslog_changelist"),
        {"visit": listed.visit},
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    shown = response.context["cl"].result_list
    assert {row.pk for row in shown} >= {listed.pk, opened.pk}
    assert elsewhere.pk not in {row.pk for row in shown}
    text = visible_text(response)
    assert support.email in text and "顧客" in text
    assert "customers.Customer" not in text


def test_who_looked_at_this_person_is_shown_to_the_privacy_officer_only(client):
    person, stranger = CustomerFactory(), CustomerFactory()
    address = AddressFactory(customer=person)
    support = make_staff(roles.SUPPORT)
    client.force_login(support)
    client.get(reverse("admin:customers_customer_change", args=[person.pk]))
    client.get(reverse("admin:customers_customer_change", args=[stranger.pk]))
    page = client.get(reverse("admin:customers_customer_change", args=[person.pk]))
    assert "who-looked" not in page.content.decode()

    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    page = client.get(reverse("admin:customers_customer_change", args=[person.pk]))
    (looked,) = [r for r in page.context["who_looked"] if r["staff_user_id"] == support.pk]
    assert looked["views"] == 4  # two opened pages, each the customer and the address inline
    assert support.email in page.content.decode()

    response = client.get(page.context["who_looked_url"])
    about = {(row.model_label, tuple(row.ids)) for row in response.context["cl"].result_list}
    assert ("customers.Address", (str(address.pk),)) in about
    assert ("customers.Customer", (str(person.pk),)) in about
    assert ("customers.Customer", (str(stranger.pk),)) not in about
