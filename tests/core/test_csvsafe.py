"""Every CSV the product writes is safe to open in a spreadsheet (OWASP "CSV Injection"): a
cell that begins with = + - @ (or a tab or carriage return) is prefixed with ' and every field
is quoted, so a formula planted by anyone (the contact form takes any address) never runs."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.audit.services import access_log_record
from apps.consents import services as consents
from apps.core import csvsafe, roles
from apps.customers.models import Inquiry
from apps.privacy_requests.models import Kind
from tests.consents.factories import purpose
from tests.factories import CustomerFactory, make_staff
from tests.privacy_requests.conftest import make_request
from tests.privacy_requests.test_carry_out import approve_and_carry_out

PLANTED = '=HYPERLINK("http://x","y")'
NEUTRALISED = "'" + PLANTED


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def every_field_quoted(text: str) -> bool:
    """QUOTE_ALL: each line is "a","b",… (a line of one empty field is "")."""
    return all(line.startswith('"') and line.endswith('"') for line in text.splitlines() if line)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (PLANTED, NEUTRALISED),
        ("+81 3 1234", "'+81 3 1234"),
        ("-5", "'-5"),  # text: OWASP prefixes it too
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("山田 = 花子", "山田 = 花子"),  # only a leading character counts
        (-5, "-5"),  # a number the program holds stays a number
        (Decimal("-1500"), "-1500"),
        (None, ""),
    ],
)
def test_formula_leading_text_is_prefixed_and_every_field_quoted(value, written):
    out = io.StringIO()
    csvsafe.writer(out).writerow([value, "plain"])
    assert parse(out.getvalue()) == [[written, "plain"]]
    assert out.getvalue().startswith('"')


@pytest.mark.django_db
def test_a_formula_planted_through_the_contact_form_is_neutralised_in_the_disclosure_package(
    client, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    response = client.post(
        reverse("contact"),
        {"name": PLANTED, "email": customer.email, "topic": "order", "message": PLANTED},
    )
    assert response.status_code == 302 and Inquiry.objects.filter(email=customer.email).exists()
    privacy_request = approve_and_carry_out(
        make_request(customer, kind=Kind.DISCLOSURE, language="ja"),
        make_staff(roles.PRIVACY_OFFICER),
        django_capture_on_commit_callbacks,
    )

    with privacy_request.package.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    text = archive.read("csv/customers-inquiries.csv").decode("utf-8-sig")
    header, row = parse(text)
    assert row[header.index("message")] == NEUTRALISED
    assert row[header.index("name")] == NEUTRALISED
    assert every_field_quoted(text)


@pytest.mark.django_db
def test_a_formula_in_a_provision_record_is_neutralised_in_its_csv(admin_client):
    customer = CustomerFactory()
    consents.consent_grant(
        purpose=purpose("third_party_provision"), source="mypage", customer=customer
    )
    consents.provision_record_create(
        customers=[customer], recipient_name=PLANTED, recipient_address="-Tokyo",
        data_items="@name", basis="consent",
    )  # fmt: skip

    response = admin_client.get(
        reverse("admin:consents_provisionrecord_export", args=[customer.pk])
    )
    text = response.content.decode("utf-8-sig")
    header, row = parse(text)
    assert row[header.index("recipient")] == NEUTRALISED
    assert row[header.index("recipient_address")] == "'-Tokyo"
    assert row[header.index("data_items")] == "'@name"
    assert every_field_quoted(text)


@pytest.mark.django_db
def test_the_admin_export_action_and_the_access_log_csv_are_neutralised_and_quoted(client):
    customer = CustomerFactory(family_name=PLANTED)
    access_log_record(
        staff_user_id=5, action="view", model_label="customers.Customer", object_ids=[1]
    )
    client.force_login(make_staff(roles.PRIVACY_OFFICER))

    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "export_personal_data_csv", "_selected_action": [customer.pk]},
    )
    text = b"".join(response.streaming_content).decode()
    header, row = parse(text)
    assert row[header.index("family_name")] == NEUTRALISED
    assert every_field_quoted(text)

    response = client.get(reverse("admin:audit_accesslog_export"))
    text = b"".join(response.streaming_content).decode()
    assert parse(text)[0][:3] == ["id", "at", "staff_user_id"]
    assert every_field_quoted(text)
