"""Shopify's mandatory privacy webhooks at /integrations/shopify/webhooks/: payloads written from
Shopify's documented format (shop_id, shop_domain, customer {id, email, phone},
orders_requested / orders_to_redact, data_request {id}) and its headers, signed with the real
scheme (base64 HMAC-SHA256 of the raw body under the app's client secret).

The request app's port is a recording fake here (``filings``): these tests are about what the
receiver and its job hand to the port; tests/api/test_shopify_requests.py goes through the real
one."""

from __future__ import annotations

import datetime
import json
import logging

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core import intake
from apps.core.intake import RequestState
from apps.core.models import Job
from apps.integration.models import ApiClient, ApiKey, ExternalCustomer, ExternalOrder
from apps.integration.models import ShopifyWebhook as Webhook
from apps.integration.services import api_key_issue
from apps.integration.shopify import secret_decrypt, secret_set
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.api.shopify_kit import (
    EMAIL,
    PHONE,
    SECRET,
    SHOP,
    URL,
    customer_redact,
    data_request,
    deliver,
    known,
    shop_redact,
    sign,
)
from tests.api.shopify_kit import shop as shop
from tests.factories import AddressFactory, CustomerFactory, GuestFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def filings():
    """The request app's port replaced by a recorder (restored after)."""
    recorded = []
    saved = intake._file, intake._state

    def file(filing):
        recorded.append(filing)
        return RequestState(
            reference=f"PR-TEST-{len(recorded):04d}",
            kind=filing.kind,
            status="received",
            status_label="Received",
            received_at=timezone.now(),
            due_on=None,
            completed_at=None,
        )

    intake.register(file=file, state=lambda **kw: None)
    yield recorded
    intake._file, intake._state = saved


def nothing_stored():
    return not Webhook.objects.exists() and not Job.objects.exists()


# ---------------------------------------------------------------------- receiving


def test_a_signed_data_request_is_answered_at_once_with_a_job_and_files_a_disclosure(
    client, shop, filings, django_capture_on_commit_callbacks
):
    person = known(shop)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(client, "customers/data_request", data_request())
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "received"
    webhook = Webhook.objects.get()
    job = Job.objects.get()
    assert job.args == [webhook.pk] and job.task.endswith("shopify_webhook_process_task")
    # Answered before any work: nothing filed until the job runs.
    assert filings == [] and webhook.state == Webhook.State.RECEIVED
    assert webhook.topic == "customers/data_request"
    assert webhook.shopify_customer_id == "191167"
    assert webhook.order_ids == [299938, 280263]
    assert webhook.data_request_id == "9999"
    assert webhook.shop_id == 954889 and webhook.api_version == "2025-10"
    assert webhook.triggered_at == datetime.datetime(
        2026, 12, 1, 23, 59, 59, 123456, tzinfo=datetime.UTC
    )

    for callback in callbacks:
        callback()
    [filing] = filings
    assert filing.kind == "disclosure" and filing.customer_id == person.pk
    assert filing.channel == "shopify" and filing.vouched_by == f"api-client:{shop.pk}"
    assert "9999" in filing.details
    webhook.refresh_from_db()
    job.refresh_from_db()
    assert webhook.state == Webhook.State.FILED
    assert webhook.request_references == ["PR-TEST-0001"]
    assert webhook.customer_ids == [person.pk]
    assert job.state == Job.State.DONE


def test_neither_the_email_nor_the_phone_shopify_sends_is_kept_or_logged(
    client, shop, filings, django_capture_on_commit_callbacks, caplog
):
    known(shop)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "customers/data_request", data_request()).status_code == 200
    row = Webhook.objects.values().get()
    stored = json.dumps(row, default=str) + json.dumps(list(Job.objects.values()), default=str)
    for value in (EMAIL, PHONE, SECRET):
        assert value not in stored
        assert value not in caplog.text
        assert all(value not in filing.details for filing in filings)


def test_a_redaction_files_an_erasure_request(
    client, shop, filings, django_capture_on_commit_callbacks
):
    person = known(shop)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "customers/redact", customer_redact()).status_code == 200
    [filing] = filings
    assert filing.kind == "erasure" and filing.customer_id == person.pk
    assert Webhook.objects.get().state == Webhook.State.FILED


def _shopify_order(shop, customer, shopify_order_id):
    address = AddressFactory(customer=customer, is_default=True)
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory().pk, 1)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    ExternalOrder.objects.create(client=shop, external_id=str(shopify_order_id), order=order)
    return order


def test_a_person_is_found_by_the_shopify_orders_when_the_customer_id_is_unknown(
    client, shop, filings, django_capture_on_commit_callbacks
):
    person = GuestFactory()
    _shopify_order(shop, person, 299938)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/redact", customer_redact(customer_id=555, orders=[299938]))
    assert [f.customer_id for f in filings] == [person.pk]


def test_a_person_this_shop_never_sent_is_recorded_as_nothing_to_do(
    client, shop, filings, django_capture_on_commit_callbacks
):
    # The same e-mail address on file is not looked for: only the ids this shop brought count.
    GuestFactory(email=EMAIL)
    other_shop = ApiClient.objects.create(name="own storefront", system="storefront")
    known(other_shop, shopify_id="191167")
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, "customers/data_request", data_request())
    assert response.status_code == 200
    assert filings == []
    webhook = Webhook.objects.get()
    assert webhook.state == Webhook.State.NOT_KNOWN and webhook.processed_at is not None
    assert Job.objects.get().state == Job.State.DONE


def test_a_refusal_by_the_request_app_is_recorded_and_not_retried(
    client, shop, django_capture_on_commit_callbacks, filings
):
    known(shop)

    def refuse(filing):
        raise ValidationError({"customer": "We hold no e-mail address for this person."})

    intake.register(file=refuse, state=lambda **kw: None)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/redact", customer_redact())
    webhook = Webhook.objects.get()
    assert webhook.state == Webhook.State.REFUSED
    assert "no e-mail address" in webhook.outcome
    assert Job.objects.get().state == Job.State.DONE


def test_a_job_that_fails_leaves_the_webhook_to_retry_and_the_retry_files_once(
    client, shop, filings, django_capture_on_commit_callbacks, admin_client
):
    known(shop)

    def broken(filing):
        raise ConnectionError("database away")

    intake.register(file=broken, state=lambda **kw: None)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/data_request", data_request())
    webhook = Webhook.objects.get()
    job = Job.objects.get()
    assert webhook.state == Webhook.State.RECEIVED and job.state == Job.State.PENDING
    assert job.attempts == 1 and job.last_error.startswith("ConnectionError")

    # The webhook list shows it waiting, with its job; "try again now" runs it.
    listing = admin_client.get("/admin/integration/shopifywebhook/")
    assert listing.status_code == 200
    assert str(Webhook.Topic.DATA_REQUEST.label) in listing.content.decode()
    assert f"/admin/core/job/{job.pk}/change/" in listing.content.decode()
    del filings[:]
    intake.register(file=saved_recorder(filings), state=lambda **kw: None)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/integration/shopifywebhook/",
            {"action": "try_again", "_selected_action": [webhook.pk]},
        )
    webhook.refresh_from_db()
    assert webhook.state == Webhook.State.FILED and len(filings) == 1
    # Carried out: a second "try again" is refused and files nothing.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/integration/shopifywebhook/",
            {"action": "try_again", "_selected_action": [webhook.pk]},
        )
    assert len(filings) == 1


def saved_recorder(recorded):
    def file(filing):
        recorded.append(filing)
        return RequestState(
            reference=f"PR-RETRY-{len(recorded)}",
            kind=filing.kind,
            status="received",
            status_label="Received",
            received_at=timezone.now(),
            due_on=None,
            completed_at=None,
        )

    return file


# ---------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "how",
    ["missing", "another secret", "garbage", "body changed after signing"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(client, shop, filings, how):
    payload = data_request()
    body = json.dumps(payload).encode()
    kwargs = {
        "missing": {"signature": False},
        "another secret": {"secret": "shpss_not_the_secret"},
        "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"},
        "body changed after signing": {
            "signature": sign(body),
            "body": body.replace(b"191167", b"191168"),
        },
    }[how]
    response = deliver(client, "customers/redact", payload, **kwargs)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert nothing_stored() and filings == []


def test_an_unknown_or_inactive_shop_is_401_and_stores_nothing(client, shop, filings):
    payload = data_request(shop="someone-else.myshopify.com")
    assert (
        deliver(client, "customers/data_request", payload, shop="someone-else.myshopify.com")
    ).status_code == 401
    shop.is_active = False
    shop.save()
    assert deliver(client, "customers/data_request", data_request()).status_code == 401
    assert nothing_stored()


def test_a_body_naming_another_shop_is_401(client, shop, filings):
    # The shop header is not signed: a body signed for shop B (same app secret) sent with shop
    # A's header must not act on shop A.
    response = deliver(client, "customers/redact", customer_redact(shop="other-shop.myshopify.com"))
    assert response.status_code == 401
    assert nothing_stored()


def test_bad_requests_change_nothing(client, shop, filings, settings):
    assert client.get(URL).status_code == 405
    assert deliver(client, "orders/create", data_request()).status_code == 400
    assert deliver(client, "customers/redact", {}, body=b"{not json").status_code == 400
    response = deliver(client, "customers/redact", {"shop_domain": SHOP, "shop_id": "x"})
    assert response.status_code == 400 and "shop_id" in response.json()["errors"]
    response = deliver(client, "customers/redact", customer_redact(orders=["#1001"]))
    assert response.status_code == 400 and EMAIL not in response.content.decode()
    settings.SHOPIFY_WEBHOOK_MAX_BYTES = 200
    assert (
        deliver(client, "customers/redact", customer_redact(orders=range(1, 100))).status_code
        == 413
    )
    assert nothing_stored() and filings == []


def test_csrf_does_not_stop_shopify(shop, filings):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert deliver(strict, "customers/data_request", data_request()).status_code == 200


# ---------------------------------------------------------------------- duplicates


def test_a_duplicate_webhook_id_answers_200_and_files_one_request(
    client, shop, filings, django_capture_on_commit_callbacks
):
    known(shop)
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, "customers/redact", customer_redact(), webhook_id="wh-1")
        again = deliver(client, "customers/redact", customer_redact(), webhook_id="wh-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == {"status": "duplicate", "id": first.json()["id"]}
    assert Webhook.objects.count() == 1 and Job.objects.count() == 1
    assert len(filings) == 1


def test_the_same_event_through_a_second_subscription_is_a_duplicate(
    client, shop, filings, django_capture_on_commit_callbacks
):
    known(shop)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/redact", customer_redact(), webhook_id="a", event_id="ev-1")
        again = deliver(
            client, "customers/redact", customer_redact(), webhook_id="b", event_id="ev-1"
        )
    assert again.json()["status"] == "duplicate"
    assert len(filings) == 1


def test_running_the_job_twice_files_once(
    client, shop, filings, django_capture_on_commit_callbacks
):
    from apps.integration.shopify_services import shopify_webhook_process

    known(shop)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/redact", customer_redact())
    shopify_webhook_process(webhook_id=Webhook.objects.get().pk)
    assert len(filings) == 1


# ---------------------------------------------------------------------- shop/redact


def test_shop_redact_erases_what_the_connection_brought_and_ends_it(
    client, shop, filings, django_capture_on_commit_callbacks, settings
):
    settings.SHOPIFY_SHOP_REDACT_BATCH = 2  # three people: two jobs, then the end
    only_here = [known(shop, shopify_id=str(100 + n)) for n in range(3)]
    _shopify_order(shop, only_here[0], 777)
    storefront = ApiClient.objects.create(name="own storefront", system="storefront")
    both = known(shop, shopify_id="200")
    known(storefront, customer=both, shopify_id="s-200")
    member = known(shop, customer=CustomerFactory(), shopify_id="300")
    api_key_issue(client=shop)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, "shop/redact", shop_redact())
    assert response.status_code == 200

    assert sorted(f.customer_id for f in filings) == sorted(p.pk for p in only_here)
    assert {f.kind for f in filings} == {"erasure"}
    assert all(f.channel == "shopify" for f in filings)
    webhook = Webhook.objects.get()
    assert webhook.state == Webhook.State.SHOP_ERASED
    assert len(webhook.request_references) == 3
    assert webhook.counts["requests_filed"] == 3 and webhook.counts["known_otherwise"] == 2
    assert Job.objects.filter(state=Job.State.DONE).count() == Job.objects.count() >= 2
    # The connection's ids, keys, domain and secret are gone; the people known otherwise stay.
    assert not ExternalCustomer.objects.filter(client=shop).exists()
    assert not ExternalOrder.objects.filter(client=shop).exists()
    assert ExternalCustomer.objects.filter(client=storefront, customer=both).exists()
    assert not ApiKey.objects.filter(client=shop, revoked_at__isnull=True).exists()
    shop.refresh_from_db()
    assert not shop.is_active and shop.shop_domain == ""
    assert shop.shopify_secret_encrypted == "" and shop.shopify_previous_secret_encrypted == ""
    assert member.pk not in [f.customer_id for f in filings]
    # The shop can no longer send anything.
    assert deliver(client, "customers/redact", customer_redact()).status_code == 401


# ---------------------------------------------------------------------- the secret


def test_the_secret_is_stored_encrypted_and_read_back_only_to_verify(shop):
    stored = ApiClient.objects.values_list("shopify_secret_encrypted", flat=True).get(pk=shop.pk)
    assert SECRET not in stored and stored
    assert secret_decrypt(stored) == SECRET


def test_a_rotated_secret_overlaps_for_a_while(client, shop, filings, settings):
    settings.SHOPIFY_SECRET_ROTATION_OVERLAP_HOURS = 24
    secret_set(shop, "shpss_new_secret")
    shop.save()
    assert deliver(client, "customers/redact", customer_redact(), secret=SECRET).status_code == 200
    assert (
        deliver(client, "customers/redact", customer_redact(), secret="shpss_new_secret")
    ).status_code == 200
    ApiClient.objects.filter(pk=shop.pk).update(
        shopify_secret_changed_at=timezone.now() - datetime.timedelta(hours=25)
    )
    assert deliver(client, "customers/redact", customer_redact(), secret=SECRET).status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_delivered_twice_at_once_is_recorded_once(shop):
    """Shopify retries a delivery it thinks timed out while the first is still being answered:
    both answers are 200, one row and one job exist (the unique constraint decides)."""
    import threading

    from django.db import connection
    from django.test import Client

    barrier = threading.Barrier(4)
    answers = []

    def send():
        try:
            barrier.wait()
            answers.append(
                deliver(Client(), "customers/redact", customer_redact(), webhook_id="same")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200] * 4
    assert sorted(a.json()["status"] for a in answers).count("received") == 1
    assert len({a.json()["id"] for a in answers}) == 1
    assert Webhook.objects.count() == 1 and Job.objects.count() == 1


def test_each_verified_webhook_is_in_the_access_log_with_ids_only(client, shop, filings):
    from apps.integration.models import ApiCallLog

    first = deliver(client, "customers/redact", customer_redact(), webhook_id="wh-9")
    deliver(client, "customers/redact", customer_redact(), webhook_id="wh-9")
    deliver(client, "orders/create", customer_redact())
    deliver(client, "customers/redact", customer_redact(), secret="wrong")  # no client: no row
    rows = list(
        ApiCallLog.objects.order_by("pk").values_list("action", "object_ids", "status_code")
    )
    webhook_id = str(first.json()["id"])
    assert rows == [
        ("shopify.customers/redact", [webhook_id], 200),
        ("shopify.customers/redact", [webhook_id], 200),
        ("shopify.other", [], 400),
    ]
    assert ApiClient.objects.get(pk=shop.pk).last_used_at is not None


def test_typing_the_same_secret_again_does_not_reopen_the_old_one(client, shop, filings):
    secret_set(shop, "shpss_new_secret")
    shop.save()
    ApiClient.objects.filter(pk=shop.pk).update(
        shopify_secret_changed_at=timezone.now() - datetime.timedelta(hours=25)
    )
    shop.refresh_from_db()
    secret_set(shop, "shpss_new_secret")
    shop.save()
    assert deliver(client, "customers/redact", customer_redact(), secret=SECRET).status_code == 401
    assert (
        deliver(client, "customers/redact", customer_redact(), secret="shpss_new_secret")
    ).status_code == 200
