"""The access log: every admin view, change, export and deletion of a model holding personal
data writes rows with ids only; nobody can edit them (the model, the admin, PostgreSQL)."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from apps.audit.models import AccessLog, AppendOnlyError
from apps.audit.services import access_log_record
from apps.core import roles
from apps.customers.models import Address, Customer, Inquiry
from apps.customers.services import inquiry_create
from tests.factories import AddressFactory, CustomerFactory, ProductFactory, make_staff

pytestmark = pytest.mark.django_db

SECRET_NAME = ("監査", "秘子")
SECRET_EMAIL = "hidden.person@example.com"
SECRET_PHONE = "090-9876-5432"
SECRET_CITY = "秘密市"


@pytest.fixture
def customer():
    customer = CustomerFactory(
        family_name=SECRET_NAME[0],
        given_name=SECRET_NAME[1],
        email=SECRET_EMAIL,
        phone=SECRET_PHONE,
        user=None,
    )
    AddressFactory(customer=customer, is_default=True, city=SECRET_CITY, phone=SECRET_PHONE)
    return customer


def rows(action=None, model_label=None):
    queryset = AccessLog.objects.all()
    if action:
        queryset = queryset.filter(action=action)
    if model_label:
        queryset = queryset.filter(model_label=model_label)
    return list(queryset.order_by("id"))


def assert_no_personal_strings():
    secrets = [*SECRET_NAME, SECRET_EMAIL, SECRET_PHONE, SECRET_CITY, "hidden.person"]
    for row in AccessLog.objects.values_list():
        text = " ".join(str(value) for value in row)
        for secret in secrets:
            assert secret not in text, f"personal data {secret!r} in an access-log row"


def change_form_data(response, **overrides):
    """What the browser would post back from an admin change form, unchanged."""
    data = {}

    def put(form, name, value):
        key = form.add_prefix(name)
        if value is None or value is False:
            return
        data[key] = "on" if value is True else value

    form = response.context["adminform"].form
    for name, field in form.fields.items():
        put(form, name, form.initial.get(name, field.initial))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management.initial.get(name, 0)
        for inline_form in formset.forms:
            for name, field in inline_form.fields.items():
                value = inline_form.initial.get(name, field.initial)
                put(inline_form, name, getattr(value, "pk", value))
    data.update(overrides)
    return data


def test_changelist_view_logs_one_row_holding_each_customer_shown(client, customer):
    other = CustomerFactory()
    staff = make_staff(roles.SUPPORT)
    client.force_login(staff)
    response = client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 200
    (logged,) = rows(AccessLog.Action.VIEW, "customers.Customer")
    assert set(logged.ids) == {str(customer.pk), str(other.pk)}
    assert logged.staff_user_id == staff.pk and logged.ip_address == "127.0.0.1"
    assert AccessLog.objects.filter(AccessLog.about(other.pk)).get() == logged
    assert_no_personal_strings()


def test_change_form_view_logs_the_customer_and_its_inline_addresses(client, customer):
    client.force_login(make_staff(roles.SUPPORT))
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    assert client.get(url).status_code == 200
    assert [r.object_id for r in rows("view", "customers.Customer")] == [str(customer.pk)]
    address = Address.objects.get(customer=customer)
    assert [r.object_id for r in rows("view", "customers.Address")] == [str(address.pk)]
    assert_no_personal_strings()


def test_change_through_the_form_is_logged(client, customer):
    client.force_login(make_staff(roles.SUPPORT))
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(client.get(url), given_name="変更子")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.given_name == "変更子"
    assert [r.object_id for r in rows("change", "customers.Customer")] == [str(customer.pk)]
    assert_no_personal_strings()


def test_inline_deletion_is_logged(client, customer):
    address = Address.objects.get(customer=customer)
    client.force_login(make_staff(roles.SUPPORT))
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(client.get(url), **{"addresses-0-DELETE": "on"})
    assert client.post(url, data).status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()
    assert [r.object_id for r in rows("delete", "customers.Address")] == [str(address.pk)]
    assert_no_personal_strings()


def test_admin_action_is_logged_as_a_change(client, customer):
    client.force_login(make_staff(roles.SUPPORT))
    url = reverse("admin:customers_customer_changelist")
    client.post(url, {"action": "restrict_customers", "_selected_action": [customer.pk]})
    assert rows("change") == []  # the intermediate form changed nothing
    client.post(
        url,
        {"action": "restrict_customers", "_selected_action": [customer.pk], "apply": "1",
         "reason": "Resale (Terms §7)"},
    )  # fmt: skip
    customer.refresh_from_db()
    assert customer.status == Customer.Status.RESTRICTED
    assert [r.object_id for r in rows("change", "customers.Customer")] == [str(customer.pk)]


def test_export_is_logged_and_only_for_the_privacy_officer(client, customer):
    url = reverse("admin:customers_customer_changelist")
    support = make_staff(roles.SUPPORT)
    client.force_login(support)
    choices = dict(client.get(url).context["action_form"].fields["action"].choices)
    assert "export_personal_data_csv" not in choices

    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    response = client.post(
        url, {"action": "export_personal_data_csv", "_selected_action": [customer.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    assert SECRET_EMAIL in body and "password" not in body  # the export itself holds the data
    assert [r.object_id for r in rows("export", "customers.Customer")] == [str(customer.pk)]
    assert_no_personal_strings()


def test_the_provision_records_export_of_one_person_is_logged(client, customer):
    """The view lives in the consents admin, which knows nothing of the audit app: the shop's
    admin site logs the export for it (log_export)."""
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    url = reverse("admin:consents_provisionrecord_export", args=[customer.pk])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert [r.object_id for r in rows("export", "customers.Customer")] == [str(customer.pk)]
    assert_no_personal_strings()


def test_bulk_deletion_is_logged(client, customer):
    inquiry = inquiry_create(name="監査 秘子", email=SECRET_EMAIL, topic="order", message="秘密")
    client.force_login(make_staff(superuser=True))
    response = client.post(
        reverse("admin:customers_inquiry_changelist"),
        {"action": "delete_selected", "_selected_action": [inquiry.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Inquiry.objects.exists()
    assert [r.object_id for r in rows("delete", "customers.Inquiry")] == [str(inquiry.pk)]
    assert_no_personal_strings()


def test_models_without_personal_data_are_not_logged(client):
    ProductFactory()
    client.force_login(make_staff(roles.SUPPORT))
    assert client.get(reverse("admin:orders_product_changelist")).status_code == 200
    assert rows() == []


def test_rows_cannot_be_edited_or_deleted_through_the_orm():
    access_log_record(staff_user_id=1, action="view", model_label="customers.Customer",
                      object_ids=[7], ip_address="127.0.0.1")  # fmt: skip
    row = AccessLog.objects.get()
    row.action = "delete"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=row.pk).update(action="delete")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get().action == "view"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql", ["UPDATE audit_accesslog SET action = 'delete'", "DELETE FROM audit_accesslog"]
)
def test_postgresql_trigger_rejects_update_and_delete(sql):
    access_log_record(staff_user_id=1, action="view", model_label="customers.Customer",
                      object_ids=[7])  # fmt: skip
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AccessLog.objects.get().action == "view"


def test_only_the_privacy_officer_reads_the_log_and_it_is_read_only(client):
    access_log_record(staff_user_id=1, action="view", model_label="customers.Customer",
                      object_ids=[7])  # fmt: skip
    row = AccessLog.objects.get()
    changelist = reverse("admin:audit_accesslog_changelist")
    change = reverse("admin:audit_accesslog_change", args=[row.pk])
    for role in (roles.SUPPORT, roles.MARKETING):
        client.force_login(make_staff(role))
        assert client.get(changelist).status_code == 403, role
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    assert client.get(changelist).status_code == 200
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"action": "delete"}).status_code == 403
    delete = reverse("admin:audit_accesslog_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessLog.objects.get().action == "view"


def test_privacy_officer_filters_and_exports_the_log_as_csv(client):
    access_log_record(staff_user_id=5, action="view", model_label="customers.Customer",
                      object_ids=[1, 2, 3])  # fmt: skip
    access_log_record(staff_user_id=6, action="export", model_label="customers.Customer",
                      object_ids=[2])  # fmt: skip
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    filtered = client.get(reverse("admin:audit_accesslog_changelist"), {"action": "export"})
    assert [r.object_id for r in filtered.context["cl"].result_list] == ["2"]
    assert reverse("admin:audit_accesslog_export") in filtered.content.decode()

    response = client.get(reverse("admin:audit_accesslog_export"), {"action": "export"})
    assert response["Content-Type"] == "text/csv"
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == ["id", "at", "staff_user_id", "action", "model_label", "object_id",
                        "object_ids", "visit", "ip_address"]  # fmt: skip
    assert len(lines) == 2 and lines[1][2:7] == ["6", "export", "customers.Customer", "2", ",2,"]
    client.force_login(make_staff(roles.SUPPORT))
    assert client.get(reverse("admin:audit_accesslog_export")).status_code == 403


def test_the_export_with_filters_that_are_no_filters_is_a_400(client):
    """The change list answers unknown filters with ?e=1; its CSV export raised a 500."""
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    response = client.get(reverse("admin:audit_accesslog_export"), {"next": "x"})
    assert response.status_code == 400
