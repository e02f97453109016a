"""An upper app adds to a lower app's admin through apps.core.admin_extensions, which the lower
admin reads; no app mutates another app's ModelAdmin at import time."""

import ast
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.core import admin_extensions
from apps.core.admin_extensions import admin_extension_add, admin_extensions_check
from apps.customers.models import Inquiry
from apps.customers.services import inquiry_create
from apps.orders.models import Product
from tests.factories import CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

APPS = Path(__file__).resolve().parents[2] / "apps"


@pytest.fixture
def registry():
    """The registry as the apps left it, given back after the test."""
    saved = {
        model: admin_extensions.AdminExtension(list(extension.inlines), list(extension.actions))
        for model, extension in admin_extensions._EXTENSIONS.items()
    }
    yield
    admin_extensions._EXTENSIONS.clear()
    admin_extensions._EXTENSIONS.update(saved)


def _mutations_of_other_apps_admins(path: Path) -> list[str]:
    """`X.attr = …` (or `+=`, or setattr(X, …)) where X was imported from another app's admin."""
    own_app = path.relative_to(APPS).parts[0]
    tree = ast.parse(path.read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("apps.")
        and ".admin" in node.module
        and node.module.split(".")[1] != own_app
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setattr":
            targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
        for target in targets:
            if isinstance(target, ast.Attribute) and getattr(target.value, "id", None) in imported:
                found.append(f"{path.relative_to(APPS)}:{node.lineno} {target.value.id}")
    return found


def test_no_app_changes_another_app_s_admin_at_import_time():
    found = [hit for path in APPS.rglob("*.py") for hit in _mutations_of_other_apps_admins(path)]
    assert found == []


def test_orders_adds_its_inline_to_the_customer_page(client):
    customer = CustomerFactory()
    client.force_login(make_staff(superuser=True))
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    inlines = [type(inline.opts).__name__ for inline in page.context["inline_admin_formsets"]]
    assert inlines == ["AddressInline", "CustomerOrderInline"]


def test_privacy_requests_adds_its_action_to_the_inquiry_list(client):
    from apps.customers.admin import InquiryAdmin

    client.force_login(make_staff(superuser=True))
    page = client.get(reverse("admin:customers_inquiry_changelist"))
    names = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert "create_privacy_request" in names
    assert "create_privacy_request" not in [getattr(a, "__name__", a) for a in InquiryAdmin.actions]


@admin.action(description="Archive", permissions=["delete"])
def archive(modeladmin, request, queryset):
    queryset.update(status=Inquiry.Status.ANSWERED)


def test_an_added_action_runs_for_staff_with_its_permissions_only(client, registry):
    from apps.core import roles

    admin_extension_add(model=Inquiry, actions=[archive])
    admin_extension_add(model=Inquiry, actions=[archive])  # a module imported twice adds it once
    inquiry = inquiry_create(
        name="山田 花子", email="hanako@example.com", topic="order", message="?"
    )
    url = reverse("admin:customers_inquiry_changelist")
    client.force_login(make_staff(roles.SUPPORT))  # may change inquiries, not delete them
    names = [name for name, _ in client.get(url).context["action_form"].fields["action"].choices]
    assert "archive" not in names
    client.post(url, {"action": "archive", "_selected_action": [inquiry.pk]})
    inquiry.refresh_from_db()
    assert inquiry.status != Inquiry.Status.ANSWERED
    client.force_login(make_staff(superuser=True))
    names = [name for name, _ in client.get(url).context["action_form"].fields["action"].choices]
    assert names.count("archive") == 1
    client.post(url, {"action": "archive", "_selected_action": [inquiry.pk]})
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.ANSWERED


def test_an_extension_no_admin_reads_stops_the_checks(registry):
    assert admin_extensions_check(None) == []
    admin_extension_add(model=Product, actions=[archive])  # ProductAdmin reads no extensions
    (error,) = admin_extensions_check(None)
    assert error.id == "core.E010" and "orders.Product" in error.msg


@admin.action(description="Escalate", permissions=["escalate"])
def escalate(modeladmin, request, queryset):
    pass


def restrict_customers(modeladmin, request, queryset):
    pass


class ProductInline(admin.TabularInline):
    model = Product  # no foreign key to Inquiry


def test_additions_are_checked_like_the_admin_s_own(registry):
    from apps.customers.models import Customer

    admin_extension_add(model=Inquiry, actions=[escalate], inlines=[ProductInline])
    admin_extension_add(model=Customer, actions=[restrict_customers])
    ids = sorted(error.id for error in admin_extensions_check(None))
    assert ids == ["admin.E202", "core.E011", "core.E012"]
