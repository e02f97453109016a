"""API clients in the admin: the privacy officer and the administrator issue, rotate and revoke
keys; a key is shown once and never stored; support and marketing cannot see clients at all."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIRequestFactory

from apps.core import roles
from apps.core.models import StaffAction
from apps.integration.api.authentication import ApiKeyAuthentication
from apps.integration.models import ApiClient, ApiKey
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def _issue(client, row):
    return client.post(
        reverse("admin:integration_apiclient_changelist"),
        {"action": "issue_key", "_selected_action": [row.pk]},
    )


def test_the_officer_issues_a_key_that_is_shown_once_and_works(client):
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    row = ApiClient.objects.create(name="shop", system="storefront", scopes=["consents:read"])
    page = _issue(client, row)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    key = re.search(r'id="api-key"[^>]*>([^<]+)<', page.content.decode()).group(1)
    stored = ApiKey.objects.get(client=row)
    assert key not in (stored.key_hash, stored.prefix) and key.startswith(stored.prefix)
    # The change page lists the key by its prefix only.
    change = client.get(reverse("admin:integration_apiclient_change", args=[row.pk]))
    assert stored.prefix in change.content.decode() and key not in change.content.decode()
    request = APIRequestFactory().get("/api/v1/", HTTP_AUTHORIZATION=f"Bearer {key}")
    principal, used = ApiKeyAuthentication().authenticate(request)
    assert principal.client == row and used == stored
    assert StaffAction.objects.filter(
        action=StaffAction.Action.API_KEY_ISSUE, staff_user_id=officer.pk, object_id=str(row.pk)
    ).exists()


def test_revoking_from_the_admin_stops_the_keys(client):
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    row = ApiClient.objects.create(name="shop", system="storefront", scopes=[])
    _issue(client, row)
    client.post(
        reverse("admin:integration_apiclient_changelist"),
        {"action": "revoke_keys", "_selected_action": [row.pk]},
    )
    assert not ApiKey.objects.filter(client=row, revoked_at__isnull=True).exists()


def test_a_bad_rate_limit_is_refused_with_a_message(client):
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    response = client.post(
        reverse("admin:integration_apiclient_add"),
        {"name": "x", "system": "other", "scopes": ["orders:write"], "rate_limit": "lots"},
    )
    assert response.status_code == 200
    assert "6000/m" in response.content.decode()
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.MARKETING])
def test_support_and_marketing_cannot_see_api_clients(client, role):
    client.force_login(make_staff(role))
    ApiClient.objects.create(name="shop", system="storefront")
    assert client.get(reverse("admin:integration_apiclient_changelist")).status_code == 403
    assert client.get(reverse("admin:integration_apicalllog_changelist")).status_code == 403
