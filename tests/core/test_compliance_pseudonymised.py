"""The pseudonymised export for analysis (APPI Art. 41): keyed ids stable per person, no names
or contacts, months and postal areas only, access-logged, the privacy officer's alone."""

import csv
import datetime
import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.audit.models import AccessLog
from apps.consents.services import restriction_set
from apps.core import roles
from apps.customers.models import Customer
from apps.orders.pseudonymised import pseudonym
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory, make_staff

pytestmark = pytest.mark.django_db


def _buyer(**fields):
    customer = CustomerFactory(
        family_name="鈴木", given_name="一郎", phone="090-8765-4321",
        date_of_birth=datetime.date(1985, 7, 23), **fields,
    )  # fmt: skip
    address = AddressFactory(
        customer=customer, recipient_name="鈴木 一郎", postal_code="150-0001",
        phone="03-9876-5432", is_default=True,
    )  # fmt: skip
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory().pk, 2)],
        ship_to=address,
        payment=PaymentInput(method="bank_transfer"),
    )
    return customer, order


def _download(client, kind: str) -> list[dict]:
    response = client.get(reverse("admin:orders_order_pseudonymised", args=[kind]))
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return body, list(csv.DictReader(io.StringIO(body)))


def test_the_export_holds_no_name_contact_or_full_postal_code_and_coarse_dates(client):
    customer, order = _buyer()
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    for kind in ("orders", "customers"):
        body, rows = _download(client, kind)
        assert len(rows) == 1
        for secret in ["鈴木", "一郎", customer.email, "090-8765-4321", "03-9876-5432",
                       "150-0001", "1500001", order.number, "1985-07", "07-23",
                       str(customer.pk) + ","]:  # fmt: skip
            assert secret not in body, (kind, secret)
        assert rows[0]["postal_area"] == "150"
        # Dates: the month at most (a birth date: the year).
        assert not re.search(r"\d{4}-\d{2}-\d{2}", body)
    _body, (order_row,) = _download(client, "orders")
    assert re.fullmatch(r"\d{4}-\d{2}", order_row["month"])
    assert order_row["total"] == str(order.total) and "x2" in order_row["items"]
    _body, (customer_row,) = _download(client, "customers")
    assert customer_row["birth_year"] == "1985"


def test_ids_are_stable_per_person_and_keyed(client, settings):
    customer, _order = _buyer()
    _buyer()  # a second order of someone else
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    _body, orders = _download(client, "orders")
    _body, customers = _download(client, "customers")
    _body, again = _download(client, "customers")
    assert customers == again
    assert {row["customer_id"] for row in orders} == {row["customer_id"] for row in customers}
    ids = [row["customer_id"] for row in customers]
    assert len(set(ids)) == 2
    # Not the plain hash of the id: computing it needs the key.
    for unkeyed in (hashlib.sha256(f"customer:{customer.pk}".encode()).hexdigest()[:24],
                    hashlib.sha256(str(customer.pk).encode()).hexdigest()[:24]):  # fmt: skip
        assert unkeyed not in ids
    settings.PSEUDONYMISATION_KEY = "another-key"
    _body, rekeyed = _download(client, "customers")
    assert not set(ids) & {row["customer_id"] for row in rekeyed}


def test_people_whose_use_is_stopped_or_who_were_erased_are_left_out(client):
    kept, _ = _buyer()
    stopped, _ = _buyer()
    restriction_set(customer=stopped, stop_use=True)
    erased, _ = _buyer()
    Customer.objects.filter(pk=erased.pk).update(status=Customer.Status.ERASED)
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    for kind in ("orders", "customers"):
        _body, rows = _download(client, kind)
        assert [row["customer_id"] for row in rows] == [pseudonym("customer", kept.pk)], kind


def test_every_person_exported_is_in_the_access_log(client):
    first, _ = _buyer()
    second, _ = _buyer()
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    _download(client, "orders")
    logged = AccessLog.objects.filter(
        staff_user_id=officer.pk, action="export", model_label="customers.Customer"
    )
    assert sorted(pk for row in logged for pk in row.ids) == sorted([str(first.pk), str(second.pk)])


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.MARKETING])
def test_only_the_privacy_officer_may_download_it(client, role):
    _buyer()
    client.force_login(make_staff(role))
    response = client.get(reverse("admin:orders_order_pseudonymised", args=["orders"]))
    assert response.status_code in (302, 403)
    assert not AccessLog.objects.filter(action="export").exists()


def test_the_command_writes_the_same_export_and_logs_who_ran_it(tmp_path):
    customer, _ = _buyer()
    officer = make_staff(roles.PRIVACY_OFFICER)
    out = tmp_path / "orders.csv"
    call_command("export_pseudonymised", "orders", "--staff-user", officer.email,
                 "--output", str(out))  # fmt: skip
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1 and "鈴木" not in out.read_text(encoding="utf-8")
    assert AccessLog.objects.filter(
        AccessLog.about(customer.pk), staff_user_id=officer.pk, action="export"
    ).exists()
    support = make_staff(roles.SUPPORT)
    with pytest.raises(CommandError):
        call_command("export_pseudonymised", "orders", "--staff-user", support.email)
    assert not AccessLog.objects.filter(staff_user_id=support.pk).exists()
