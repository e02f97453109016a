"""Privacy requests and inquiries from the storefront: the request app's intake (the door in
apps/core/intake.py) and the API over it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.core.intake import RequestFiling, request_file, request_state
from apps.customers.models import Customer
from apps.privacy_requests.models import (
    Channel,
    IdentityMethod,
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
