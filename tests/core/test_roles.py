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
    assert first[1] == 51 + 7 and first[2] == 3  # the crowd, the member, 7 requesters


# ---------------------------------------------------------------------- least privilege per role

ADMIN_PAGES = {
    # url name: expected status for (Support, Privacy officer, Marketing)
    "admin:customers_customer_changelist": (200, 200, 403),
    "admin:customers_customer_change": (200, 200, 403),
    "admin:customers_inquiry_changelist": (200, 200, 403),
    "admin:orders_order_changelist": (200, 200, 403),
    "admin:orders_product_changelist": (200, 200, 200),
    "admin:customers_user_changelist": (403, 403, 403),
    "admin:audit_accesslog_changelist": (403, 200, 403),
    "admin:audit_accesslog_export": (403, 200, 403),
    "admin:incidents_incident_changelist": (403, 200, 403),
    "admin:incidents_incident_add": (403, 200, 403),
    "admin:otp_totp_totpdevice_changelist": (403, 403, 403),
    "admin:django_celery_beat_periodictask_changelist": (403, 403, 403),
}
ROLES = [roles.SUPPORT, roles.PRIVACY_OFFICER, roles.MARKETING]


@pytest.mark.parametrize("role_index", range(3), ids=ROLES)
def test_which_admin_pages_each_role_opens(client, role_index):
    role = ROLES[role_index]
    customer = CustomerFactory()
    client.force_login(_staff(role))
    for name, expected in ADMIN_PAGES.items():
        args = [customer.pk] if name.endswith("_change") else []
        status = client.get(reverse(name, args=args)).status_code
        assert status == expected[role_index], f"{role} on {name}: {status}"


def test_no_role_is_granted_what_it_must_never_have():
    from fnmatch import fnmatch

    from apps.core.services import roles_setup

    roles_setup()
    for role, forbidden in roles.ROLE_FORBIDDEN.items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert granted == set(roles.ROLE_PERMISSIONS[role])
        for permission in granted:
            for pattern in forbidden:
                assert not fnmatch(permission, pattern), f"{role} must not have {permission}"


def test_only_the_privacy_officer_holds_incident_and_audit_permissions():
    for role, permissions in roles.ROLE_PERMISSIONS.items():
        governance = [p for p in permissions if p.startswith(("incidents.", "audit.view_access"))]
        assert bool(governance) == (role == roles.PRIVACY_OFFICER), role


PERSONAL = ["秘密", "ヒミツ", "secret.person@example.com", "06-1111-2222", "秘密区"]


@pytest.fixture
def secret_customer():
    from tests.factories import AddressFactory

    customer = CustomerFactory(
        family_name="秘密",
        family_name_kana="ヒミツ",
        email="secret.person@example.com",
        phone="06-1111-2222",
        user=None,
    )
    AddressFactory(customer=customer, city="秘密区", is_default=True)
    return customer


def test_marketing_sees_no_personal_field_even_if_granted_a_view(client, secret_customer):
    """Defence in depth: a later misconfiguration giving Marketing a view permission on a model
    holding personal data still shows it ids and statuses only."""
    from django.contrib.auth.models import Permission

    marketing = _staff(roles.MARKETING)
    Group.objects.get(name=roles.MARKETING).permissions.add(
        Permission.objects.get(codename="view_customer")
    )
    client.force_login(marketing)
    changelist = client.get(
        reverse("admin:customers_customer_changelist"), {"q": "secret.person@example.com"}
    )
    change = client.get(reverse("admin:customers_customer_change", args=[secret_customer.pk]))
    assert changelist.status_code == 200 and change.status_code == 200
    for response in (changelist, change):
        body = response.content.decode()
        for value in PERSONAL:
            assert value not in body, value
    form_fields = set(change.context["adminform"].form.fields)
    assert not form_fields & {"family_name", "email", "phone", "date_of_birth"}
    assert change.context["inline_admin_formsets"] == []


def test_support_does_see_personal_fields(client, secret_customer):
    client.force_login(_staff(roles.SUPPORT))
    body = client.get(
        reverse("admin:customers_customer_change", args=[secret_customer.pk])
    ).content.decode()
    for value in PERSONAL:
        assert value in body, value
