"""Fixtures for the storefront API: a client system with a key, and a DRF test client using it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.integration.models import ApiClient, Scope
from apps.integration.services import api_key_issue

ALL_SCOPES = [choice.value for choice in Scope]


@pytest.fixture
def make_api():
    """make_api(scopes=[...], name=..., system=...) -> (ApiClient row, DRF client with its key)."""

    def make(scopes=None, *, name="storefront", system=ApiClient.System.STOREFRONT, **fields):
        row = ApiClient.objects.create(
            name=name, system=system, scopes=ALL_SCOPES if scopes is None else scopes, **fields
        )
        key = api_key_issue(client=row)
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        http.key = key
        return row, http

    return make


@pytest.fixture
def api(make_api, db):
    """A storefront client with every scope."""
    return make_api()[1]
