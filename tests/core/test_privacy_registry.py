"""The personal-data registry: every model field holding personal data is covered by an eraser,
and the registered exporters and erasers really export and erase one customer."""

import datetime
import re

import pytest
from django.apps import apps
from django.test import Client

from apps.core.privacy import covered_fields, personal_data_erase, personal_data_export
from apps.customers.models import Address, Customer, Inquiry, Session, User
from apps.customers.services import inquiry_create
from apps.orders.models import Payment
from apps.orders.privacy import tax_hold_until
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

# Every field in the project that holds personal data. A new one must be added here *and* be
# covered by an eraser (apps/<app>/privacy.py).
PERSONAL_FIELDS = {
    "customers.User": {"email", "password", "last_login", "email_confirmed_at"},
    "customers.EmailConfirmation": {"email", "previous_email"},
    "customers.Customer": {"family_name", "given_name", "family_name_kana", "given_name_kana",
                           "date_of_birth", "phone", "email", "restriction_reason"},
    "customers.Address": {"label", "recipient_name", "postal_code", "prefecture", "city",
                          "line1", "line2", "phone"},
    "customers.Inquiry": {"name", "email", "phone", "message"},
    "orders.Order": {"ship_name", "ship_postal_code", "ship_address", "ship_phone"},
    "orders.Payment": {"card_last4"},
    "consents.ConsentEventContext": {"ip_address", "user_agent"},
    "marketing.Subscription": {"email_hash", "confirm_token_hash"},
}  # fmt: skip

# Field names that smell of personal data: a model in our apps with one of these and no eraser
# fails the test below, so a new model cannot slip past the registry unnoticed.
SUSPICIOUS = re.compile(
    r"(name|kana|email|e_mail|phone|tel|address|postal|zip|birth|line1|line2|city|ip_address|"
    r"user_agent|message|last4|document|note|hash)"
)
NOT_PERSONAL = {
    "orders.Product": {"name"},
    "orders.OrderLine": {"product_name"},
    "consents.Purpose": {"name_ja", "name_en"},
    # A tag's name and a note about its set-up (what an old HTML snippet held): about a tag.
    "consents.ExternalTag": {"name", "staff_note"},
    # Businesses, not people: recipients, contractors and providers of data.
    "consents.ProvisionRecord": {"recipient_name", "recipient_address", "recipient_representative"},
    "consents.Contractor": {"name", "address"},
    # A connected system's name (the shop's storefront, its Shopify shop).
    "integration.ApiClient": {"name"},
    # The hash of a system's API key, not of anything about a person.
    "integration.ApiKey": {"key_hash"},
    # A system holding copies (the storefront, the mail provider), named by the shop.
    "integration.DownstreamSystem": {"name"},
    "consents.ReceiptRecord": {"provider_name", "provider_address", "provider_representative"},
    # The shop's own sender identity.
    "marketing.MailMagazine": {"name", "from_name", "from_email"},
    # Kept on purpose after erasure: a keyed hash, so the address is never mailed again.
    "marketing.SuppressedAddress": {"address_hash"},
    # The same keyed hash, as evidence that an erasure suppression was lifted by a confirmed
    # re-subscription (kept as long as the consent event it rests on, apps/marketing/retention).
    "marketing.SuppressionLift": {"address_hash"},
    # <c{campaign}.d{delivery}@shop-domain>: ids only.
    "marketing.Delivery": {"message_id"},
    # The hash of a short-lived one-time code, not of anything about the person.
    "privacy_requests.PrivacyRequest": {"code_hash"},
    # The hash of a short-lived one-time link's token (apps/integration/privacy_link.py).
    "integration.PrivacyLink": {"token_hash"},
    # The address a *staff member* used to open personal data: a security record about staff,
    # not a customer's data, and append-only by design (apps/audit/models.py).
    "audit.AccessLog": {"ip_address"},
}


def test_every_listed_personal_field_is_covered_by_an_eraser():
    covered = covered_fields()
    for model_label, fields in PERSONAL_FIELDS.items():
        assert model_label in covered, f"{model_label} is covered by no eraser"
        assert fields <= covered[model_label], f"{model_label}: {fields - covered[model_label]}"


def test_no_model_with_personal_looking_fields_escapes_the_registry():
    covered = covered_fields()
    for model in apps.get_models():
        if not model.__module__.startswith("apps."):
            continue
        label = model._meta.label
        for field in model._meta.concrete_fields:
            if not SUSPICIOUS.search(field.name) or field.name in NOT_PERSONAL.get(label, set()):
                continue
            assert field.name in covered.get(label, set()), (
                f"{label}.{field.name} looks like personal data but no eraser covers it: "
                "register it in the app's privacy.py (or list it in NOT_PERSONAL with a reason)"
            )


@pytest.fixture
def person(db):
    customer = CustomerFactory(date_of_birth=datetime.date(1990, 4, 1))
    address = AddressFactory(customer=customer, is_default=True, city="世田谷区")
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory().pk, 3)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    inquiry_create(name="山田 花子", email=customer.email, topic="order", message="いつ届きますか")
    return customer, order


def test_export_gathers_every_app(person):
    customer, order = person
    data = personal_data_export(customer_id=customer.pk)
    assert data["customers"]["profile"][0]["family_name"] == "山田"
    assert data["customers"]["addresses"][0]["city"] == "世田谷区"
    assert data["customers"]["inquiries"][0]["message"] == "いつ届きますか"
    assert data["customers"]["login"][0]["email"] == customer.user.email
    assert data["orders"]["orders"][0]["number"] == order.number
    assert data["orders"]["orders"][0]["payment"]["card_last4"] == "4242"


def test_dry_run_reports_and_changes_nothing(person):
    customer, order = person
    report = personal_data_erase(customer_id=customer.pk, dry_run=True)
    assert report.deleted["customers.Address"] == 1
    assert report.anonymised["customers.Customer"] == 1
    assert report.anonymised["orders.Order"] == 1
    assert report.kept["orders.Order"][0] == 1
    customer.refresh_from_db()
    assert customer.family_name == "山田" and Address.objects.filter(customer=customer).exists()
    order.refresh_from_db()
    assert order.ship_name


def test_erasure_leaves_no_personal_data_and_keeps_the_tax_record(person):
    customer, order = person
    user_id = customer.user_id
    client = Client()
    client.force_login(customer.user)
    someone_else = Client()
    someone_else.force_login(CustomerFactory().user)
    assert Client().session.session_key  # a visitor's session, signed in to nobody
    assert Session.objects.filter(user_id=user_id).count() == 1
    others = set(Session.objects.exclude(user_id=user_id).values_list("session_key", flat=True))

    report = personal_data_erase(customer_id=customer.pk)

    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED and customer.erased_at
    for name in PERSONAL_FIELDS["customers.Customer"]:
        assert not getattr(customer, name), name
    login = User.objects.get(pk=user_id)  # emptied, not deleted
    assert login.email == f"erased-{user_id}@erased.invalid" and not login.is_active
    assert not login.has_usable_password() and login.last_login is None
    assert not Address.objects.filter(customer=customer).exists()
    inquiry = Inquiry.objects.get()  # its topic and date stay, nothing of its sender
    assert (inquiry.name, inquiry.email, inquiry.phone, inquiry.message) == ("", "", "", "")
    assert report.anonymised["customers.Inquiry"] == 1
    assert not Session.objects.filter(user_id=user_id).exists()
    assert report.deleted["customers.Session"] == 1
    assert set(Session.objects.values_list("session_key", flat=True)) == others
    order.refresh_from_db()
    assert order.number and order.total and order.placed_at
    assert order.use_suspended and order.hold_until == tax_hold_until(order.placed_at)
    for name in PERSONAL_FIELDS["orders.Order"]:
        assert getattr(order, name) == "", name
    assert Payment.objects.get(order=order).card_last4 == ""
    count, reason, until = report.kept["orders.Order"]
    assert count == 1 and "7 years" in reason and until == order.hold_until
    assert client.get("/mypage/").status_code == 302  # logged out


def test_erasure_twice_changes_nothing_more(person):
    customer, _ = person
    personal_data_erase(customer_id=customer.pk)
    again = personal_data_erase(customer_id=customer.pk)
    assert not again.changed_anything
    assert again.kept["orders.Order"][0] == 1
