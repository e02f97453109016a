"""Privacy requests and inquiries from the storefront: the request app's intake (the door in
apps/core/intake.py) and the API over it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.core.intake import RequestFiling, request_file, request_state
from apps.customers.models import Customer, Inquiry
from apps.integration.api.requests import KINDS
from apps.integration.models import ApiCallLog, ExternalCustomer
from apps.privacy_requests.models import (
    Channel,
    IdentityMethod,
    Kind,
    PrivacyRequest,
    RequestEvent,
    Status,
)
from tests.factories import AddressFactory, GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"


def _filing(customer, **fields) -> RequestFiling:
    values = {
        "kind": "erasure",
        "customer_id": customer.pk,
        "channel": "storefront",
        "vouched_by": "api-client:7",
    }
    return RequestFiling(**{**values, **fields})


# ------------------------------------------------------------------ the intake


def test_a_filed_request_starts_with_the_identity_vouched_for_and_named_in_the_timeline():
    guest = GuestFactory()
    state = request_file(_filing(guest))
    row = PrivacyRequest.objects.get(reference=state.reference)
    assert (row.customer, row.channel, row.kind) == (guest, Channel.STOREFRONT, "erasure")
    assert row.identity_method == IdentityMethod.VOUCHED and row.identity_verified_at
    assert row.identity_verified_by is None  # no staff member checked anything
    assert row.requester_email == guest.email  # answers go to the address on file
    assert state.status == row.status == Status.REVIEW
    steps = list(row.events.values_list("step", "actor", "note"))
    assert [s for s, _a, _n in steps] == [
        "received",
        "verification_started",
        "identity_verified",
        "in_review",
    ]
    assert {a for _s, a, _n in steps} == {RequestEvent.Actor.SYSTEM}
    assert "api-client:7" in steps[2][2]
    assert row.notices.filter(kind="receipt").exists()


def test_a_disclosure_waits_for_its_fee_and_a_paper_one_goes_to_the_default_address():
    guest = GuestFactory()
    AddressFactory(customer=guest, is_default=True, postal_code="150-0001")
    state = request_file(_filing(guest, kind="disclosure", disclosure_form="paper"))
    row = PrivacyRequest.objects.get(reference=state.reference)
    assert row.status == Status.FEE and row.fee_status == "pending"
    assert row.disclosure_form == "paper" and "〒150-0001" in row.requester_postal_address


def test_a_correction_is_validated_like_my_page():
    guest = GuestFactory()
    with pytest.raises(ValidationError) as error:
        request_file(_filing(guest, kind="correction", requested_changes={"phone": "abc"}))
    assert "requested_changes" in error.value.message_dict
    state = request_file(
        _filing(guest, kind="correction", requested_changes={"phone": "03-1111-2222"})
    )
    row = PrivacyRequest.objects.get(reference=state.reference)
    assert row.requested_changes == {"phone": "03-1111-2222"}
    assert PrivacyRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": "mypage"}, "channel"),  # My Page has its own service
        ({"vouched_by": ""}, "vouched_by"),
        ({"vouched_by": "someone@example.com"}, "vouched_by"),  # ids only in the timeline
        ({"kind": "nonsense"}, "kind"),
    ],
)
def test_bad_filings_are_refused_and_change_nothing(fields, field):
    guest = GuestFactory()
    with pytest.raises(ValidationError) as error:
        request_file(_filing(guest, **fields))
    assert field in error.value.message_dict
    assert not PrivacyRequest.objects.exists() and not RequestEvent.objects.exists()


def test_an_unknown_or_erased_person_is_refused():
    guest = GuestFactory()
    Customer.objects.filter(pk=guest.pk).update(status=Customer.Status.ERASED)
    for customer_id in (guest.pk, guest.pk + 1000):
        with pytest.raises(ValidationError) as error:
            request_file(_filing(guest, customer_id=customer_id))
        assert "customer" in error.value.message_dict
    assert not PrivacyRequest.objects.exists()


def test_state_is_given_only_for_the_people_listed():
    mine, theirs = GuestFactory(), GuestFactory()
    state = request_file(_filing(mine))
    assert request_state(reference=state.reference, customer_ids=[mine.pk]) == state
    assert request_state(reference=state.reference, customer_ids=[theirs.pk]) is None
    assert request_state(reference="PR-1999-000001", customer_ids=[mine.pk]) is None
    ids = Customer.objects.filter(pk=mine.pk).values("pk")  # a subquery works as well
    assert request_state(reference=state.reference, customer_ids=ids).status == Status.REVIEW


# ------------------------------------------------------------------ the API


def _brought(row, customer, external_id="shop-1"):
    """A person the client sent earlier (as /api/v1/customers/ would have recorded)."""
    return ExternalCustomer.objects.create(client=row, external_id=external_id, customer=customer)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_the_request_apps_kinds_are_the_apis():
    assert set(KINDS) == set(Kind.values)


@pytest.mark.parametrize(
    ("body", "status", "fee"),
    [
        ({"kind": "erasure"}, Status.REVIEW, "not_applicable"),
        ({"kind": "deletion"}, Status.REVIEW, "not_applicable"),
        ({"kind": "stop_of_use"}, Status.REVIEW, "not_applicable"),
        ({"kind": "stop_of_provision"}, Status.REVIEW, "not_applicable"),
        ({"kind": "purpose_notification"}, Status.FEE, "pending"),
        ({"kind": "disclosure", "disclosure_form": "electronic"}, Status.FEE, "pending"),
        ({"kind": "provision_records"}, Status.FEE, "pending"),
        ({"kind": "correction", "requested_changes": {"phone": "03-1111-2222"}}, Status.REVIEW,
         "not_applicable"),
        ({"kind": "addition", "requested_changes": {"date_of_birth": "1990-04-01"}},
         Status.REVIEW, "not_applicable"),
        ({"kind": "gdpr_access"}, Status.REVIEW, "not_applicable"),
        ({"kind": "gdpr_portability"}, Status.REVIEW, "not_applicable"),
        ({"kind": "gdpr_objection"}, Status.REVIEW, "not_applicable"),
    ],
)  # fmt: skip
def test_each_kind_is_filed_from_the_storefront(make_api, body, status, fee):
    row, http = make_api(scopes=["requests:write"])
    guest = GuestFactory()
    if body["kind"].startswith("gdpr_"):
        # The GDPR's own rights are for a person in the EU/EEA: the address on file decides.
        AddressFactory(customer=guest, country="DE", postal_code="10115", is_default=True)
    _brought(row, guest)
    response = http.post("/api/v1/requests/", {"customer": "shop-1", **body}, format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["status"] == status and answer["kind"] == body["kind"]
    assert answer["reference"].startswith("PR-") and answer["due_on"]
    saved = PrivacyRequest.objects.get(reference=answer["reference"])
    assert (saved.customer, saved.channel, saved.fee_status) == (guest, "storefront", fee)
    assert f"api-client:{row.pk}" in saved.events.get(step="identity_verified").note
    log = ApiCallLog.objects.get(client_id=row.pk)
    assert (log.action, log.object_ids) == ("requests.file.post", [str(guest.pk), saved.reference])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"kind": "correction"}, "requested_changes"),  # nothing to change
        ({"kind": "correction", "requested_changes": {"phone": "abc"}}, "requested_changes"),
        ({"kind": "correction", "requested_changes": {"password": "x"}}, "requested_changes"),
        ({"kind": "gdpr_access"}, "kind"),  # a GDPR right under APPI
        ({"kind": "erasure", "details": "x" * 5001}, "details"),
        ({"kind": "erasure", "disclosure_form": "fax"}, "disclosure_form"),
        ({"kind": "disclosure", "disclosure_form": "paper"}, "disclosure_form"),  # no address
    ],
)
def test_bad_requests_are_422_with_the_field_and_change_nothing(make_api, body, field):
    row, http = make_api()
    _brought(row, GuestFactory())
    answer = _problem(
        http.post("/api/v1/requests/", {"customer": "shop-1", **body}, format="json"), 422
    )
    assert field in answer["errors"], answer
    assert not PrivacyRequest.objects.exists()


def test_an_unknown_customer_is_422_and_an_erased_one_409(make_api):
    row, http = make_api()
    _brought(row, GuestFactory(status=Customer.Status.ERASED), "gone")
    unknown = _problem(
        http.post("/api/v1/requests/", {"customer": "nobody", "kind": "erasure"}, format="json"),
        422,
    )
    assert "send them first" in unknown["errors"]["customer"][0]
    erased = _problem(
        http.post("/api/v1/requests/", {"customer": "gone", "kind": "erasure"}, format="json"),
        409,
    )
    assert "erased" in erased["detail"]
    assert not PrivacyRequest.objects.exists()


def test_another_clients_customer_is_unknown(make_api):
    theirs, _http = make_api(name="theirs")
    _brought(theirs, GuestFactory())
    _mine, http = make_api(name="mine")
    _problem(
        http.post("/api/v1/requests/", {"customer": "shop-1", "kind": "erasure"}, format="json"),
        422,
    )
    assert not PrivacyRequest.objects.exists()


def test_a_person_we_cannot_answer_is_422(make_api):
    """No e-mail on file: the receipt and the answer would reach nobody."""
    row, http = make_api()
    _brought(row, GuestFactory(email=""))
    answer = _problem(
        http.post("/api/v1/requests/", {"customer": "shop-1", "kind": "erasure"}, format="json"),
        422,
    )
    assert "e-mail" in answer["errors"]["customer"][0]
    assert not PrivacyRequest.objects.exists()


def test_a_restricted_person_keeps_their_rights(make_api):
    row, http = make_api()
    _brought(row, GuestFactory(status="restricted", restriction_reason="resale"))
    response = http.post("/api/v1/requests/", {"customer": "shop-1", "kind": "disclosure"},
                         format="json")  # fmt: skip
    assert response.status_code == 201


def test_filing_needs_requests_write_and_reading_requests_read(make_api):
    row, writer = make_api(scopes=["requests:read"])
    _brought(row, GuestFactory())
    _problem(
        writer.post("/api/v1/requests/", {"customer": "shop-1", "kind": "erasure"}, format="json"),
        403,
    )
    other, reader = make_api(name="writer-only", scopes=["requests:write"])
    _brought(other, GuestFactory())
    filed = reader.post("/api/v1/requests/", {"customer": "shop-1", "kind": "erasure"},
                        format="json").json()  # fmt: skip
    _problem(reader.get(f"/api/v1/requests/{filed['reference']}/"), 403)
    assert PrivacyRequest.objects.count() == 1


def test_a_repeated_filing_with_the_same_key_files_once(make_api):
    row, http = make_api()
    _brought(row, GuestFactory())
    body = {"customer": "shop-1", "kind": "erasure"}
    first = http.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="form-77")
    again = http.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="form-77")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert PrivacyRequest.objects.count() == 1


def test_the_status_is_read_by_the_client_that_brought_the_person_only(make_api):
    row, http = make_api(name="mine")
    guest = GuestFactory()
    _brought(row, guest)
    filed = http.post("/api/v1/requests/", {"customer": "shop-1", "kind": "erasure"},
                      format="json").json()  # fmt: skip
    read = http.get(f"/api/v1/requests/{filed['reference']}/")
    assert read.status_code == 200 and read.json() == filed
    # Staff decide: the storefront sees it.
    PrivacyRequest.objects.filter(reference=filed["reference"]).update(status=Status.APPROVED)
    assert http.get(f"/api/v1/requests/{filed['reference']}/").json()["status"] == "approved"

    other_row, other = make_api(name="theirs")
    _brought(other_row, GuestFactory())  # its own "shop-1", another person
    _problem(other.get(f"/api/v1/requests/{filed['reference']}/"), 404)
    _problem(http.get("/api/v1/requests/PR-1999-000001/"), 404)
    assert ApiCallLog.objects.filter(client_id=other_row.pk, status_code=404).exists()


def test_a_request_filed_on_my_page_is_readable_by_the_client_that_brought_the_person(make_api):
    from apps.privacy_requests.services import privacy_request_create

    row, http = make_api()
    guest = GuestFactory()
    _brought(row, guest)
    staff_filed = privacy_request_create(
        kind="stop_of_use", channel=Channel.POSTAL_MAIL, customer=guest,
        requester_name="x", requester_email=guest.email,
    )  # fmt: skip
    assert http.get(f"/api/v1/requests/{staff_filed.reference}/").status_code == 200
    stranger = privacy_request_create(
        kind="stop_of_use", channel=Channel.POSTAL_MAIL, customer=GuestFactory(),
        requester_name="x", requester_email="x@example.com",
    )  # fmt: skip
    _problem(http.get(f"/api/v1/requests/{stranger.reference}/"), 404)


# ------------------------------------------------------------------ inquiries


INQUIRY = {"name": "山田 花子", "email": "Hanako@Example.com", "topic": "order",
           "message": "いつ届きますか"}  # fmt: skip


def test_an_inquiry_from_the_contact_form(make_api, django_capture_on_commit_callbacks, mailoutbox):
    row, http = make_api(scopes=["requests:write"])
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/api/v1/inquiries/", INQUIRY, format="json")
    assert response.status_code == 201, response.content
    inquiry = Inquiry.objects.get(pk=response.json()["id"])
    assert (inquiry.name, inquiry.email, inquiry.topic, inquiry.customer) == (
        "山田 花子", "Hanako@example.com", "order", None
    )  # fmt: skip
    assert response.json()["status"] == "new"
    assert [m.to for m in mailoutbox] == [["Hanako@example.com"]]  # the receipt
    assert ApiCallLog.objects.get(client_id=row.pk).object_ids == [str(inquiry.pk)]


def test_an_inquiry_of_a_known_person_is_linked_and_takes_our_contact_details(make_api):
    row, http = make_api()
    guest = GuestFactory()
    _brought(row, guest)
    body = {"customer": "shop-1", "topic": "privacy", "message": "データを見たい"}
    inquiry = Inquiry.objects.get(
        pk=http.post("/api/v1/inquiries/", body, format="json").json()["id"]
    )
    assert (inquiry.customer, inquiry.email, inquiry.name) == (guest, guest.email, guest.full_name)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**INQUIRY, "email": "not-an-address"}, 422, "email"),
        ({**INQUIRY, "email": ""}, 422, "email"),
        ({**INQUIRY, "name": ""}, 422, "name"),
        ({**INQUIRY, "topic": "weather"}, 422, "topic"),
        ({**INQUIRY, "message": ""}, 422, "message"),
        ({**INQUIRY, "phone": "call me"}, 422, "phone"),
        ({**INQUIRY, "customer": "nobody"}, 422, "customer"),
        ({**INQUIRY, "customer": "gone"}, 409, None),
    ],
)
def test_bad_inquiries_are_refused_and_change_nothing(make_api, body, status, field):
    row, http = make_api()
    _brought(row, GuestFactory(status=Customer.Status.ERASED), "gone")
    answer = _problem(http.post("/api/v1/inquiries/", body, format="json"), status)
    if field:
        assert field in answer["errors"], answer
    assert not Inquiry.objects.exists()


def test_reading_a_status_is_one_query_with_the_clients_people_as_a_subquery(make_api):
    """Not a list of every id the client brought (a shop's whole customer base) sent back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    row, http = make_api()
    _brought(row, GuestFactory())
    for n in range(40):
        _brought(row, GuestFactory(), f"more-{n}")
    reference = http.post("/api/v1/requests/", {"customer": "shop-1", "kind": "erasure"},
                          format="json").json()["reference"]  # fmt: skip
    http.get(f"/api/v1/requests/{reference}/")  # the key's last use is written once a minute
    with CaptureQueriesContext(connection) as captured:
        assert http.get(f"/api/v1/requests/{reference}/").status_code == 200
    about_people = [q["sql"] for q in captured if "integration_externalcustomer" in q["sql"]]
    assert len(about_people) == 1 and "privacy_requests_privacyrequest" in about_people[0]
    assert len(captured) <= 6, [q["sql"] for q in captured]
