"""The admin's 403 page (apps/audit/views.py, templates/admin/403.html): in the admin's look,
in the staff member's language, saying what was refused and where to go back; anonymous
visitors still go to the login, and the rest of the site keeps Django's own 403."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from apps.audit.views import permission_denied
from apps.core import roles
from tests.factories import CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/customers/customer/"


def test_a_role_refused_a_list_gets_the_admins_403_saying_what_and_where_back(client):
    client.force_login(make_staff(roles.MARKETING))
    page = client.get(CUSTOMERS, HTTP_REFERER="http://testserver/admin/marketing/campaign/")
    assert page.status_code == 403
    assert "admin/403.html" in [t.name for t in page.templates]
    assert "admin/base_site.html" in [t.name for t in page.templates]
    body = page.content.decode()
    assert "Your role does not allow you to see the list of customers." in body
    assert 'href="http://testserver/admin/marketing/campaign/"' in body
    assert 'href="/admin/" id="denied-home"' in body
    assert 'id="site-name"' in body  # the admin's header


def test_a_record_and_an_addition_are_named_as_such(client):
    client.force_login(make_staff(roles.MARKETING))
    customer = CustomerFactory()
    body = client.get(f"{CUSTOMERS}{customer.pk}/change/").content.decode()
    assert "allow you to open this customer." in body
    client.force_login(make_staff(roles.SUPPORT))
    page = client.get("/admin/incidents/incident/add/")
    assert page.status_code == 403
    assert "Your role does not allow you to add incidents." in page.content.decode()


def test_the_page_speaks_the_staff_members_language(client):
    client.force_login(make_staff(roles.MARKETING))
    page = client.get(CUSTOMERS, HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 403
    body = page.content.decode()
    assert '<html lang="ja"' in body
    assert "顧客の一覧を見ることはできません" in body
    assert "ダッシュボードに戻る" in body


def test_a_foreign_referer_is_no_way_back(client):
    client.force_login(make_staff(roles.MARKETING))
    body = client.get(CUSTOMERS, HTTP_REFERER="https://evil.example/phish").content.decode()
    assert "evil.example" not in body and 'id="denied-back"' not in body


def test_anonymous_visitors_are_still_sent_to_the_login(client):
    page = client.get(CUSTOMERS)
    assert page.status_code == 302 and page["Location"].startswith("/admin/login/")


def test_the_member_side_keeps_djangos_403():
    request = RequestFactory().get("/mypage/")
    request.user = CustomerFactory().user
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert b"<h1>403 Forbidden</h1>" in response.content
    assert b"admin" not in response.content and b"dashboard" not in response.content
