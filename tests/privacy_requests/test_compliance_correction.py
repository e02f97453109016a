"""A correction reaches the person's addresses and their orders' shipping snapshots, not only
the profile (issue 15, "Requests"), through the owning apps' services; checked at receipt,
applied all or nothing, and the completion notice says what changed."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apps.customers.models import Address
from apps.orders.models import Order
from apps.privacy_requests.models import Kind, PrivacyRequest, Status
from tests.factories import AddressFactory, CustomerFactory
from tests.privacy_requests.conftest import make_request
from tests.privacy_requests.test_carry_out import approve_and_carry_out

pytestmark = pytest.mark.django_db


def test_a_correction_reaches_an_address_and_an_order_snapshot(
    person_with_order, officer, django_capture_on_commit_callbacks
):
    customer, order = person_with_order
    address = Address.objects.get(customer=customer)
    changes = {
        f"address:{address.pk}:postal_code": "150-0002",
        f"address:{address.pk}:line1": "2-3-4",
        f"order:{order.number}:ship_postal_code": "150-0002",
        "phone": "03-9999-0000",
    }
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(customer, kind=Kind.CORRECTION, requested_changes=changes, language="en")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.COMPLETED
    address.refresh_from_db()
    order.refresh_from_db()
    customer.refresh_from_db()
    assert (address.postal_code, address.line1) == ("150-0002", "2-3-4")
    assert order.ship_postal_code == "150-0002" and customer.phone == "03-9999-0000"
    assert pr.applied_changes[f"address:{address.pk}:postal_code"] == ["150-0001", "150-0002"]
    assert pr.applied_changes[f"order:{order.number}:ship_postal_code"][1] == "150-0002"
    [completion] = [m for m in mail.outbox if "is complete" in m.subject]
    assert "150-0002" in completion.body and order.number in completion.body


def test_bad_address_or_order_changes_are_refused_at_receipt(person_with_order):
    customer, order = person_with_order
    address = Address.objects.get(customer=customer)
    someone_else = AddressFactory(customer=CustomerFactory())
    for changes in (
        {f"address:{someone_else.pk}:postal_code": "150-0002"},  # not theirs
        {f"address:{address.pk}:postal_code": "abc"},  # not a postal code
        {f"address:{address.pk}:is_default": "1"},  # not correctable
        {"order:NO-SUCH:ship_name": "山田 花子"},
        {f"order:{order.number}:total": "1"},
    ):
        with pytest.raises(ValidationError):
            make_request(customer, kind=Kind.CORRECTION, requested_changes=changes)
    assert not PrivacyRequest.objects.exists()


def test_all_or_nothing_when_one_change_no_longer_validates(
    person_with_order, officer, django_capture_on_commit_callbacks
):
    customer, order = person_with_order
    address = Address.objects.get(customer=customer)
    changes = {
        f"order:{order.number}:ship_name": "山田 太郎",
        f"address:{address.pk}:postal_code": "150-0002",
    }
    pr = make_request(customer, kind=Kind.CORRECTION, requested_changes=changes)
    address.delete()  # gone by the time it is carried out
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.REVIEW  # back to staff, nothing applied
    assert Order.objects.get(pk=order.pk).ship_name != "山田 太郎"
