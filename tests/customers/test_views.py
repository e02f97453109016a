import pytest
from django.test import Client
from django.urls import reverse

from apps.customers.models import Address, Customer, Inquiry, User
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import PASSWORD, AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

SIGNUP_POST = {
    "email": "newmember@example.com",
    "password1": "blue-mountain-coffee-77",
    "password2": "blue-mountain-coffee-77",
    "family_name": "佐藤",
    "given_name": "健",
    "family_name_kana": "さとう",
    "given_name_kana": "ｹﾝ",
    "phone": "０９０－１１１１－２２２２",
}


@pytest.fixture
def member(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    return customer


def test_signup_then_login_then_profile_then_addresses(client):
    response = client.post(reverse("signup"), SIGNUP_POST)
    # Not logged in yet: "check your inbox", the same answer as for a registered address.
    assert response.status_code == 302 and response["Location"] == reverse("signup") + "?sent=1"
    customer = Customer.objects.get(email="newmember@example.com")
    assert customer.family_name_kana == "サトウ" and customer.given_name_kana == "ケン"
    assert customer.phone == "090-1111-2222"

    client.post(reverse("logout"))
    assert client.get(reverse("mypage:overview")).status_code == 302
    response = client.post(
        reverse("login"),
        {"username": "NewMember@Example.com", "password": SIGNUP_POST["password1"]},
    )
    assert response.status_code == 302
    assert client.get(reverse("mypage:overview")).status_code == 200

    response = client.post(
        reverse("customers:profile"),
        {"family_name": "佐藤", "given_name": "健一", "family_name_kana": "サトウ",
         "given_name_kana": "ケンイチ", "email": "newmember@example.com", "phone": "03-1111-2222"},
    )  # fmt: skip
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.given_name == "健一" and customer.phone == "03-1111-2222"

    response = client.post(
        reverse("customers:address_create"),
        {"recipient_name": "佐藤 健一", "country": "JP", "postal_code": "1500001",
         "prefecture": "東京都", "city": "渋谷区", "line1": "1-2-3", "phone": "03-1111-2222"},
    )  # fmt: skip
    assert response.status_code == 302
    address = Address.objects.get(customer=customer)
    assert address.postal_code == "150-0001" and address.is_default
    page = client.get(reverse("customers:addresses")).content.decode()
    assert "〒150-0001" in page


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"family_name_kana": "山田"}, "family_name_kana"),
        ({"email": "not-an-email"}, "email"),
        ({"password2": "something-else-99"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"phone": "12"}, "phone"),
    ],
)
def test_signup_bad_input_shows_an_error_and_writes_nothing(client, changes, field):
    response = client.post(reverse("signup"), {**SIGNUP_POST, **changes})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.exists() and not Customer.objects.exists()


def test_profile_bad_kana_and_phone_show_errors_and_change_nothing(client, member):
    response = client.post(
        reverse("customers:profile"),
        {"family_name": "変更", "given_name": "x", "family_name_kana": "abc", "given_name_kana": "ハナコ",
         "email": member.email, "phone": "0000"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "family_name_kana" in errors and "phone" in errors
    member.refresh_from_db()
    assert member.family_name == "山田"


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"postal_code": "12-345"}, "postal_code"),
        ({"prefecture": ""}, "prefecture"),
        ({"phone": "x"}, "phone"),
    ],
)
def test_address_bad_input_shows_an_error_and_writes_nothing(client, member, changes, field):
    data = {"recipient_name": "山田", "country": "JP", "postal_code": "150-0001", "prefecture": "東京都",
            "city": "渋谷区", "line1": "1-2-3", "phone": "03-1111-2222"}  # fmt: skip
    response = client.post(reverse("customers:address_create"), {**data, **changes})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Address.objects.exists()


def test_another_members_address_is_404_for_every_action(client, member):
    other = AddressFactory(city="他人の住所")
    for name, method in [("address_edit", "get"), ("address_edit", "post"),
                         ("address_delete", "post"), ("address_default", "post")]:  # fmt: skip
        response = getattr(client, method)(reverse(f"customers:{name}", args=[other.pk]), {})
        assert response.status_code == 404, name
    assert Address.objects.filter(pk=other.pk, city="他人の住所").exists()
    assert "他人の住所" not in client.get(reverse("customers:addresses")).content.decode()


def test_another_members_order_is_404(client, member):
    other = CustomerFactory()
    address = AddressFactory(customer=other)
    order = order_place(
        customer=other,
        items=[LineItem(ProductFactory().pk, 1)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="1111"),
    )
    assert client.get(reverse("orders:detail", args=[order.number])).status_code == 404
    assert order.number not in client.get(reverse("orders:list")).content.decode()


def test_own_orders_are_listed_and_shown(client, member):
    address = AddressFactory(customer=member)
    order = order_place(
        customer=member,
        items=[LineItem(ProductFactory(name="煎茶").pk, 2)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    assert order.number in client.get(reverse("orders:list")).content.decode()
    detail = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "煎茶" in detail and "4242" in detail


def test_mypage_needs_login():
    client = Client()
    for name in ["mypage:overview", "customers:profile", "customers:addresses", "orders:list"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_staff_without_a_member_profile_gets_404_not_someone_elses_page(client):
    staff = User.objects.create_user(email="staff@example.com", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("mypage:overview")).status_code == 404


def test_csrf_is_enforced_on_posts(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    address = AddressFactory(customer=member)
    response = client.post(reverse("customers:address_delete", args=[address.pk]))
    assert response.status_code == 403
    assert Address.objects.filter(pk=address.pk).exists()
    response = client.post(reverse("customers:profile"), {"family_name": "x"})
    assert response.status_code == 403


def test_contact_form(client, mailoutbox, django_capture_on_commit_callbacks):
    data = {
        "name": "田中 一郎",
        "email": "ichiro@example.com",
        "topic": "privacy",
        "message": "開示を請求します",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contact"), data)
    assert response.status_code == 302
    assert Inquiry.objects.get().acknowledged_at is not None
    assert mailoutbox[0].to == ["ichiro@example.com"]


def test_contact_bad_input_writes_nothing(client):
    response = client.post(
        reverse("contact"), {"name": "", "email": "bad", "topic": "nope", "message": ""}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"name", "email", "topic", "message"}
    assert not Inquiry.objects.exists()


def test_password_reset_mail_goes_out_over_real_smtp(
    client, smtp_settings, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out on commit
        response = client.post(reverse("password_reset"), {"email": customer.user.email})
    assert response.status_code == 302
    [received] = smtp_settings.messages
    assert received["to"] == [customer.user.email]
    body = received["message"].get_body(("plain",)).get_content()
    link = next(line for line in body.splitlines() if "/accounts/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "fresh-green-tea-2026", "new_password2": "fresh-green-tea-2026"},
    )
    assert response.status_code == 302
    customer.user.refresh_from_db()
    assert customer.user.check_password("fresh-green-tea-2026")


def test_password_reset_for_unknown_address_reveals_nothing(client, smtp_settings):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert smtp_settings.messages == []
