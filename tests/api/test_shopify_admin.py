"""A Shopify connection in the admin: the shop domain and the app's client secret, which is
written once and never shown again; the received webhooks listed for the privacy officer only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core import roles
from apps.integration.models import ApiClient
from apps.integration.models import ShopifyWebhook as Webhook
from apps.integration.shopify import secret_decrypt
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

SECRET = "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"
FORM = {
    "name": "Kyoto tea (Shopify)",
    "system": "shopify",
    "rate_limit": "6000/m",
    "is_active": "on",
    "shop_domain": " Kyoto-Tea.myshopify.com ",
    # The keys inline's management form (no keys are added here).
    "keys-TOTAL_FORMS": "0",
    "keys-INITIAL_FORMS": "0",
}


@pytest.fixture
def officer(client):
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    return client


def test_the_officer_connects_a_shop_and_the_secret_is_never_shown_again(officer):
    response = officer.post(
        reverse("admin:integration_apiclient_add"), {**FORM, "shopify_client_secret": SECRET}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = ApiClient.objects.get()
    assert row.shop_domain == "kyoto-tea.myshopify.com"
    assert SECRET not in row.shopify_secret_encrypted
    assert secret_decrypt(row.shopify_secret_encrypted) == SECRET
    change = officer.get(reverse("admin:integration_apiclient_change", args=[row.pk]))
    page = change.content.decode()
    assert SECRET not in page and row.shopify_secret_encrypted not in page
    assert "kyoto-tea.myshopify.com" in page

    # Saving again with the field blank keeps the secret.
    again = officer.post(reverse("admin:integration_apiclient_change", args=[row.pk]), FORM)
    assert again.status_code == 302
    row.refresh_from_db()
    assert secret_decrypt(row.shopify_secret_encrypted) == SECRET


def test_a_shopify_connection_needs_its_domain_and_secret(officer):
    response = officer.post(reverse("admin:integration_apiclient_add"), {**FORM, "shop_domain": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "needs the shop" in page and "needs the app" in page
    response = officer.post(
        reverse("admin:integration_apiclient_add"),
        {**FORM, "shop_domain": "kyoto-tea.example.com", "shopify_client_secret": SECRET},
    )
    assert response.status_code == 200 and "myshopify.com" in response.content.decode()
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.MARKETING])
def test_support_and_marketing_cannot_see_the_webhooks(client, role):
    client.force_login(make_staff(role))
    assert client.get(reverse("admin:integration_shopifywebhook_changelist")).status_code == 403


def test_the_officer_sees_the_webhooks_with_their_requests(officer):
    shop = ApiClient.objects.create(name="shop", system="shopify", shop_domain="a.myshopify.com")
    Webhook.objects.create(
        client=shop,
        topic=Webhook.Topic.CUSTOMER_REDACT,
        webhook_id="wh-1",
        state=Webhook.State.FILED,
        request_references=["PR-2026-000123"],
    )
    page = officer.get(reverse("admin:integration_shopifywebhook_changelist")).content.decode()
    assert str(Webhook.Topic.CUSTOMER_REDACT.label) in page  # the topic in words
    assert '/admin/privacy_requests/privacyrequest/?q=PR-2026-000123">PR-2026-000123</a>' in page
