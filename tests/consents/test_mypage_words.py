"""/mypage/privacy/ words a refusal as a refusal: a visitor who chose "necessary only" never
agreed, so the page says "not consented", and "withdrawn" only after an agreement."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def analytics_row(page: str) -> str:
    return page.split('data-purpose="analytics"')[1].split("</tr>")[0]


def test_necessary_only_then_login_reads_not_consented(client):
    client.post(reverse("consents:cookie_choice"), {"choice": "necessary", "next": "/"})
    client.force_login(CustomerFactory().user)
    page = client.get(reverse("consents:mypage")).content.decode()
    row = analytics_row(page)
    assert "Not consented" in row and "Withdrawn" not in row
    history = page.split('id="consent-history"')[1]
    assert "Not consented" in history and "Withdrawn" not in history


def test_a_member_who_agreed_then_withdrew_reads_withdrawn(client):
    client.force_login(CustomerFactory().user)
    client.post(reverse("consents:cookie_choice"), {"choice": "all", "next": "/"})
    client.post(reverse("consents:cookie_choice"), {"choice": "necessary", "next": "/"})
    page = client.get(reverse("consents:mypage")).content.decode()
    assert "Withdrawn" in analytics_row(page)
