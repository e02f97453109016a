import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from apps.core import roles
from apps.customers.models import User
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _staff(role):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(
        email=f"{role[:4].lower()}@shop.test", password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def test_setup_roles_is_idempotent():
    call_command("setup_roles", verbosity=0)
    call_command("setup_roles", verbosity=0)
    assert Group.objects.filter(name__in=roles.ROLE_PERMISSIONS).count() == 3


def test_marketing_cannot_see_customers(client):
    client.force_login(_staff(roles.MARKETING))
    customer = CustomerFactory(family_name="秘密")
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:customers_customer_change", args=[customer.pk])).status_code
        == 403
    )
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403
    assert "秘密" not in client.get(reverse("admin:index")).content.decode()


def test_support_searches_customers_by_kana_email_and_phone(client):
    client.force_login(_staff(roles.SUPPORT))
    target = CustomerFactory(family_name_kana="タナカ", phone="06-5555-1234")
    CustomerFactory(family_name_kana="スズキ", phone="090-0000-0000")
    url = reverse("admin:customers_customer_changelist")
    for term in ["タナカ", target.email, "06-5555-1234"]:
        response = client.get(url, {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [target], term
    assert (
        client.get(reverse("admin:customers_customer_change", args=[target.pk])).status_code == 200
    )


def test_support_restricts_a_customer_with_a_reason(client):
    from apps.customers.models import Customer

    client.force_login(_staff(roles.SUPPORT))
    customer = CustomerFactory()
    url = reverse("admin:customers_customer_changelist")
    form = client.post(url, {"action": "restrict_customers", "_selected_action": [customer.pk]})
    assert form.status_code == 200 and "reason" in form.content.decode().lower()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    client.post(
        url,
        {"action": "restrict_customers", "_selected_action": [customer.pk], "apply": "1",
         "reason": "Resale on auction sites (Terms §7)"},
    )  # fmt: skip
    customer.refresh_from_db()
    assert customer.status == Customer.Status.RESTRICTED
    assert customer.restriction_reason.startswith("Resale")


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    from apps.customers.models import Customer
    from apps.orders.models import Order

    call_command("seed_demo", customers=50)
    first = (User.objects.count(), Customer.objects.count(), Order.objects.count())
    call_command("seed_demo", customers=50)
    assert (User.objects.count(), Customer.objects.count(), Order.objects.count()) == first
    out = capsys.readouterr().out
    assert "member@example.com" in out and "marketing@example.com" in out
    assert first[1] == 51 and first[2] == 3
