import pytest
from django.core.exceptions import ValidationError

from apps.customers import services
from apps.customers.models import Address, Customer, Inquiry, User
from tests.factories import CustomerFactory, GuestFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "Hanako@Example.com",
    "password": "correct-horse-battery-9",
    "family_name": "山田",
    "given_name": "花子",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "ハナコ",
}


def test_signup_creates_login_and_profile_together():
    customer = services.member_signup(**SIGNUP)
    assert customer.user.email == "hanako@example.com"
    assert customer.email == "hanako@example.com"
    assert customer.user.check_password(SIGNUP["password"])
    assert customer.acquired_via == Customer.AcquiredVia.SIGNUP


def test_email_is_unique_whatever_its_case():
    services.member_signup(**SIGNUP)
    with pytest.raises(ValidationError):
        services.member_signup(**{**SIGNUP, "email": "HANAKO@example.COM"})
    assert User.objects.count() == 1


def test_signup_with_bad_kana_writes_nothing():
    with pytest.raises(ValidationError) as exc:
        services.member_signup(**{**SIGNUP, "family_name_kana": "山田"})
    assert "family_name_kana" in exc.value.error_dict
    assert User.objects.count() == 0
    assert Customer.objects.count() == 0


def test_profile_update_never_moves_a_members_login_email():
    customer = CustomerFactory()
    services.customer_update_profile(customer=customer, phone="03-9999-0000")
    with pytest.raises(ValidationError) as exc:
        services.customer_update_profile(customer=customer, email="new@example.com")
    assert "email" in exc.value.error_dict
    customer.refresh_from_db()
    customer.user.refresh_from_db()
    assert customer.phone == "03-9999-0000"
    assert customer.email == customer.user.email != "new@example.com"


def test_a_guests_contact_email_is_corrected_by_the_profile_service():
    guest = GuestFactory()
    services.customer_update_profile(customer=guest, email="Corrected@Example.com")
    guest.refresh_from_db()
    assert guest.email == "corrected@example.com"


def test_profile_update_with_bad_phone_changes_nothing():
    customer = CustomerFactory(phone="090-1111-2222")
    with pytest.raises(ValidationError):
        services.customer_update_profile(customer=customer, phone="12345", family_name="佐藤")
    customer.refresh_from_db()
    assert customer.phone == "090-1111-2222"
    assert customer.family_name == "山田"


def test_profile_update_refuses_an_email_taken_by_another_login():
    other = CustomerFactory()
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.user_email_change_request(user=customer.user, new_email=other.user.email.upper())
    customer.user.refresh_from_db()
    assert customer.user.email != other.user.email


def test_profile_update_refuses_unknown_fields():
    # Stored data (a correction request's changes) goes through customer_correct: an unknown
    # name there is a ValidationError; the typed service refuses it at the call (below).
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.customer_correct(customer=customer, changes={"status": "active"})


def test_a_corrections_stored_changes_are_applied_as_the_profile_page_would():
    """customer_correct takes the changes as a request stored them (JSON: a date as text)."""
    guest = GuestFactory()
    corrected, link_sent = services.customer_correct(
        customer=guest, changes={"email": "Fixed@Example.com", "date_of_birth": "1990-01-02"}
    )
    guest.refresh_from_db()
    assert (guest.email, str(guest.date_of_birth), link_sent) == (
        "fixed@example.com",
        "1990-01-02",
        False,
    )
    assert corrected.pk == guest.pk


def test_the_profile_service_takes_only_profile_fields_by_name():
    customer = CustomerFactory()
    with pytest.raises(TypeError):
        services.customer_update_profile(customer=customer, status="active")
    customer.refresh_from_db()
    assert customer.status == "active"


ADDRESS = {
    "recipient_name": "山田 花子",
    "country": "JP",
    "postal_code": "150-0001",
    "prefecture": "東京都",
    "city": "渋谷区",
    "line1": "1-2-3",
    "phone": "03-1234-5678",
}


def test_first_address_becomes_default_and_one_default_only():
    customer = CustomerFactory()
    first = services.address_create(customer=customer, **ADDRESS)
    second = services.address_create(customer=customer, **ADDRESS)
    assert first.is_default and not second.is_default
    services.address_set_default(address=second)
    assert list(Address.objects.filter(customer=customer, is_default=True)) == [second]
    services.address_delete(address=second)
    first.refresh_from_db()
    assert first.is_default


@pytest.mark.parametrize(
    "field,value",
    [
        ("postal_code", "1500-01"),
        ("prefecture", "Tokyo"),
        ("phone", "12-34"),
        ("recipient_name", ""),
    ],
)
def test_bad_japanese_address_is_refused_and_nothing_written(field, value):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.address_create(customer=customer, **{**ADDRESS, field: value})
    assert field in exc.value.error_dict
    assert not Address.objects.exists()


def test_foreign_addresses_need_no_prefecture():
    customer = CustomerFactory()
    address = services.address_create(
        customer=customer, **{**ADDRESS, "country": "US", "postal_code": "94103", "prefecture": ""}
    )
    assert address.pk


def test_restrict_needs_a_reason_and_can_be_lifted():
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.customer_restrict(customer=customer, reason="  ")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    services.customer_restrict(customer=customer, reason="Resale of limited items (Terms §7)")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.RESTRICTED and customer.restricted_at
    services.customer_lift_restriction(customer=customer)
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE and not customer.restriction_reason


def test_inquiry_is_acknowledged_once(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = services.inquiry_create(
            name="山田 花子", email="hanako@example.com", topic="order", message="届きません"
        )
    inquiry.refresh_from_db()
    assert inquiry.acknowledged_at is not None
    assert [m.to for m in mailoutbox] == [["hanako@example.com"]]
    assert services.inquiry_acknowledge(inquiry_id=inquiry.pk) is False
    assert len(mailoutbox) == 1


def test_inquiry_with_bad_phone_writes_nothing():
    with pytest.raises(ValidationError):
        services.inquiry_create(
            name="x", email="x@example.com", topic="order", message="m", phone="abc"
        )
    assert not Inquiry.objects.exists()


def test_argon2_is_the_password_hasher_outside_tests():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import Argon2PasswordHasher

    encoded = Argon2PasswordHasher().encode("pw", Argon2PasswordHasher().salt())
    assert encoded.startswith("argon2$")


def test_a_sign_up_that_loses_a_race_for_its_address_gets_the_form_message(monkeypatch):
    """The unique index decides between two sign-ups at once; the loser sees the message,
    not an IntegrityError whose detail would carry the address into the log."""
    from django.core.exceptions import ValidationError

    from apps.customers.services import accounts as services

    CustomerFactory(user__email="race@example.jp", email="race@example.jp")
    monkeypatch.setattr(services, "_email_taken", lambda email: False)  # both checked at once
    with pytest.raises(ValidationError, match="already exists"):
        services.member_signup(
            email="race@example.jp",
            password="a-long-pass-2026",
            family_name="山田",
            given_name="花子",
        )
