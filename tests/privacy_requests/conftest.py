import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from apps.core import roles
from apps.customers.models import User
from apps.orders.services import LineItem, PaymentInput, order_place
from apps.privacy_requests import services
from apps.privacy_requests.models import Channel, DisclosureForm, Kind
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"
    return settings.PRIVACY_PRIVATE_ROOT


def staff(role: str) -> User:
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(
        email=f"{role.split()[0].lower()}@shop.test", password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def officer(db):
    return staff(roles.PRIVACY_OFFICER)


@pytest.fixture
def support(db):
    return staff(roles.SUPPORT)


@pytest.fixture
def customer(db):
    return CustomerFactory(date_of_birth=datetime.date(1990, 4, 1))


@pytest.fixture
def person_with_order(customer):
    address = AddressFactory(customer=customer, is_default=True)
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory().pk, 2)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    return customer, order


def make_request(customer=None, *, kind=Kind.ERASURE, by=None, **fields):
    defaults = {
        "channel": Channel.POSTAL_MAIL,
        "requester_name": customer.full_name if customer else "山田 花子",
        "requester_email": customer.email if customer else "someone@example.com",
    }
    if kind in (Kind.DISCLOSURE, Kind.PROVISION_RECORDS, Kind.GDPR_ACCESS, Kind.GDPR_PORTABILITY):
        defaults["disclosure_form"] = DisclosureForm.ELECTRONIC
    defaults.update(fields)
    return services.privacy_request_create(kind=kind, customer=customer, by=by, **defaults)


def to_review(privacy_request, officer):
    """Take a request through identity verification (by code) and any fee to review."""
    from apps.privacy_requests.models import FeeStatus, PrivacyRequest

    services.privacy_request_start_verification(privacy_request=privacy_request, by=officer)
    code = send_code_and_read(privacy_request, officer)
    services.privacy_request_check_code(privacy_request=privacy_request, code=code, by=officer)
    privacy_request = PrivacyRequest.objects.get(pk=privacy_request.pk)
    if privacy_request.fee_status == FeeStatus.PENDING:
        services.privacy_request_record_fee(
            privacy_request=privacy_request, fee_status=FeeStatus.RECEIVED, by=officer
        )
    return PrivacyRequest.objects.get(pk=privacy_request.pk)


def send_code_and_read(privacy_request, by) -> str:
    """Send a code and read it from the mail (locmem backend)."""
    import re

    from django.core import mail
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.privacy_request_send_code(privacy_request=privacy_request, by=by)
    return re.search(r"[:：] ?(\d{6})(?!\d)", mail.outbox[-1].body).group(1)  # ja or en


def now():
    return timezone.now()
