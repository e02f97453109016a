"""Shopify's privacy webhooks through the real request app (apps/privacy_requests/intake.py
behind apps/core/intake.py): the requests they file are ordinary privacy requests on the
Shopify channel, with the identity vouched for by the connection and the answers going to the
address on file."""

from __future__ import annotations

import pytest

from apps.core.models import Job
from apps.customers.models import Customer
from apps.integration.models import ApiClient, ExternalCustomer
from apps.integration.models import ShopifyWebhook as Webhook
from apps.privacy_requests.models import Channel, IdentityMethod, PrivacyRequest, Status
from tests.api.shopify_kit import (
    customer_redact,
    data_request,
    deliver,
    known,
    shop_redact,
)
from tests.api.shopify_kit import shop as shop
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"


def test_a_data_request_becomes_a_disclosure_request_on_the_shopify_channel(
    client, shop, django_capture_on_commit_callbacks, mailoutbox
):
    person = known(shop)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "customers/data_request", data_request()).status_code == 200
    webhook = Webhook.objects.get()
    request = PrivacyRequest.objects.get()
    assert webhook.state == Webhook.State.FILED
    assert webhook.request_references == [request.reference]
    assert (request.customer, request.kind, request.channel) == (
        person,
        "disclosure",
        Channel.SHOPIFY,
    )
    assert request.identity_method == IdentityMethod.VOUCHED
    assert f"api-client:{shop.pk}" in request.events.get(step="identity_verified").note
    # The answers go to the address on file, never to one the webhook carried.
    assert request.requester_email == person.email
    assert [m.to for m in mailoutbox] == [[person.email]]
    assert not Job.objects.exclude(state=Job.State.DONE).exists()


def test_a_redaction_becomes_an_erasure_request_in_review(
    client, shop, django_capture_on_commit_callbacks
):
    person = known(shop)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/redact", customer_redact())
    request = PrivacyRequest.objects.get()
    assert (request.customer, request.kind, request.status) == (person, "erasure", Status.REVIEW)


def test_a_redaction_for_someone_already_erased_files_nothing_and_says_why(
    client, shop, django_capture_on_commit_callbacks
):
    person = known(shop)
    Customer.objects.filter(pk=person.pk).update(status=Customer.Status.ERASED)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/redact", customer_redact())
    webhook = Webhook.objects.get()
    assert webhook.state == Webhook.State.REFUSED and webhook.outcome
    assert not PrivacyRequest.objects.exists()


def test_shop_redact_files_erasure_requests_for_the_people_it_brought(
    client, shop, django_capture_on_commit_callbacks
):
    people = [known(shop, shopify_id=str(n)) for n in (1, 2)]
    storefront = ApiClient.objects.create(name="own storefront", system="storefront")
    elsewhere = known(shop, shopify_id="3")
    ExternalCustomer.objects.create(client=storefront, external_id="s-3", customer=elsewhere)
    GuestFactory()  # someone the shop never sent
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "shop/redact", shop_redact())
    assert sorted(PrivacyRequest.objects.values_list("customer_id", flat=True)) == sorted(
        p.pk for p in people
    )
    assert set(PrivacyRequest.objects.values_list("kind", "channel")) == {
        ("erasure", Channel.SHOPIFY)
    }
    assert Webhook.objects.get().state == Webhook.State.SHOP_ERASED
