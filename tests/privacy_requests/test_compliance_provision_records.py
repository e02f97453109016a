"""A request for the third-party provision records (APPI Art. 33(5)) is answered with those
records (recipient, date, items, basis), not with the whole disclosure package (issue 15)."""

import io
import json
import zipfile

import pytest

from apps.consents.models import Purpose
from apps.consents.services import consent_grant, provision_record_create
from apps.privacy_requests import selectors
from apps.privacy_requests.models import Kind, Status
from tests.privacy_requests.conftest import make_request
from tests.privacy_requests.test_carry_out import approve_and_carry_out

pytestmark = pytest.mark.django_db

ONLY = {"consents": {"third_party_provision", "received_from_third_parties"}}


@pytest.fixture
def provided(person_with_order):
    customer, _order = person_with_order
    consent_grant(
        purpose=Purpose.objects.get(code="third_party_provision"), source="mypage",
        customer=customer,
    )  # fmt: skip
    provision_record_create(
        customers=[customer],
        recipient_name="株式会社パートナー",
        recipient_address="東京都港区1-1",
        data_items="氏名, メールアドレス",
        basis="consent",
    )
    return customer


def test_the_package_holds_the_provision_records_only(
    provided, officer, django_capture_on_commit_callbacks
):
    pr = approve_and_carry_out(
        make_request(provided, kind=Kind.PROVISION_RECORDS),
        officer,
        django_capture_on_commit_callbacks,
    )
    assert pr.status == Status.COMPLETED and pr.package
    with pr.package.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    data = json.loads(archive.read("data.json"))
    assert {app: set(sections) for app, sections in data.items()} == ONLY
    [row] = data["consents"]["third_party_provision"]
    assert row["recipient"] == "株式会社パートナー" and row["basis"] == "consent"
    assert row["provided_on"] and row["data_items"] == "氏名, メールアドレス"
    assert not [n for n in archive.namelist() if n.startswith(("csv/customers", "csv/orders"))]
    page = archive.read("index.html").decode()
    assert "株式会社パートナー" in page and provided.family_name not in page


def test_the_paper_answer_holds_the_provision_records_only(provided):
    pr = make_request(provided, kind=Kind.PROVISION_RECORDS, disclosure_form="paper",
                      requester_postal_address="〒150-0001 東京都渋谷区神宮前1-2-3")  # fmt: skip
    data = selectors.disclosure_data(privacy_request=pr)
    assert {app: set(sections) for app, sections in data.items()} == ONLY
    everything = selectors.disclosure_data(
        privacy_request=make_request(provided, kind="disclosure")
    )
    assert "customers" in everything and "orders" in everything
