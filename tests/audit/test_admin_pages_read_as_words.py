"""No admin page shows an internal name: every registered change list and a change page of
each model with rows (demo data plus a few records the demo lacks) is opened by the admin and
by the privacy officer, and its visible text holds no ``Model #12``-style name and no
``app_label.ModelName``."""

import html
import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from apps.audit.services import access_log_record
from apps.core import roles
from apps.core.models import StaffAction
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

INTERNAL_ID = re.compile(r"#\s?\d+")
MODEL_LABEL = re.compile(r"\b[a-z_]+\.[A-Z][A-Za-z]+\b")
INVISIBLE = re.compile(r"<(script|style|template)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")


def visible_text(response) -> str:
    page = INVISIBLE.sub(" ", response.content.decode())
    return html.unescape(TAG.sub(" ", page))


def internal_names(text: str) -> list[str]:
    return INTERNAL_ID.findall(text) + MODEL_LABEL.findall(text)


@pytest.fixture
def shop():
    call_command("seed_demo", customers=8, verbosity=0)
    officer = make_staff(roles.PRIVACY_OFFICER)
    access_log_record(
        staff_user_id=officer.pk,
        action="view",
        model_label="customers.Customer",
        object_ids=[1],
    )
    StaffAction.objects.create(
        staff_user_id=officer.pk, action=StaffAction.Action.values[0],
        model_label="customers.Customer", object_id="1",
    )  # fmt: skip
    return officer


def test_the_patterns_catch_what_the_pages_used_to_show():
    assert internal_names("Customer #1 · customers.Customer") == ["#1", "customers.Customer"]
    assert internal_names("顧客番号 000001 · 2026-12-02 10:00") == []


@pytest.mark.parametrize("who", ["admin", "privacy officer"])
def test_no_admin_page_shows_an_internal_name(client, shop, who):
    user = make_staff(superuser=True) if who == "admin" else shop
    client.force_login(user)
    found, opened = {}, 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        try:
            changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        except NoReverseMatch:  # an admin without a change list
            continue
        response = client.get(changelist)
        if response.status_code != 200:
            assert response.status_code in (302, 403), changelist
            continue
        pages = [(changelist, response)]
        first = model_admin.get_queryset(response.wsgi_request).order_by("pk").first()
        if first is not None:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            pages.append((url, client.get(url)))
        for url, page in pages:
            if page.status_code != 200:
                continue
            opened += 1
            names = internal_names(visible_text(page))
            if names:
                found[url] = sorted(set(names))[:5]
    assert opened > (40 if who == "admin" else 30)
    assert not found, found
