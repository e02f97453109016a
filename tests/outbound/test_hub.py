"""The event hub and its subscriber: a consent withdrawal and an unsubscribe reach the
storefront's endpoint (named by the storefront's own customer id), in the transaction of the
change; the delivery log keeps no personal value once delivered."""

import json

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from apps.consents.models import Purpose
from apps.consents.services import consent_withdraw
from apps.core import events
from apps.core.events import event_publish
from apps.integration.models import ApiClient, ExternalCustomer
from apps.integration.outbound.models import WebhookDelivery
from apps.marketing.models import Subscription
from apps.marketing.services import subscription_unsubscribe
from tests.factories import CustomerFactory
from tests.marketing.helpers import magazine, subscriber
from tests.outbound.conftest import make_storefront

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture
def shop(db, receiver, loopback_allowed):
    """The storefront is an API client too: it knows people by its own ids."""
    client = ApiClient.objects.create(name="Own storefront", system=ApiClient.System.STOREFRONT)
    endpoint, secret = make_storefront(receiver.url, api_client=client)
    return client, endpoint, secret


def bodies(receiver, secret):
    return [Webhook(secret).verify(r["body"], r["headers"]) for r in receiver.requests]


def test_event_publish_refuses_unknown_types_and_non_json_data(db):
    with pytest.raises(ValueError):
        event_publish("customer.exploded", customer_id=1, data={})
    with pytest.raises(ValueError):
        event_publish("consent.changed", customer_id=1, data={"customer": object()})
    with pytest.raises(TypeError):
        event_publish("consent.changed", customer_id="1", data={})


def test_an_unsubscribe_reaches_the_storefront_endpoint(
    shop, receiver, django_capture_on_commit_callbacks
):
    client, _endpoint, secret = shop
    mag = magazine()
    customer = subscriber(mag)
    ExternalCustomer.objects.create(client=client, external_id="sf-1001", customer=customer)
    WebhookDelivery.objects.all().delete()  # the subscription's start, not under test here
    subscription = Subscription.objects.get(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_unsubscribe(subscription=subscription)
    received = {body["type"]: body for body in bodies(receiver, secret)}
    assert set(received) == {"subscription.changed", "consent.changed"}
    stop = received["subscription.changed"]["data"]
    assert stop["status"] == "unsubscribed" and stop["magazine"] == "weekly"
    assert stop["customer"] == {"id": customer.pk, "external_ids": ["sf-1001"]}
    consent = received["consent.changed"]["data"]
    assert (consent["purpose"], consent["status"], consent["source"]) == (
        "newsletter",
        "withdrawn",
        "unsubscribe",
    )
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    # The storefront learns who by its own id and ours: no address, no name.
    raw = b"".join(r["body"] for r in receiver.requests).decode()
    assert customer.email not in raw and customer.family_name not in raw


def test_a_consent_withdrawal_reaches_the_storefront_endpoint(
    shop, receiver, django_capture_on_commit_callbacks
):
    _client, _endpoint, secret = shop
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        consent_withdraw(
            purpose=Purpose.objects.get(code="remarketing"), source="mypage", customer=customer
        )
    [body] = bodies(receiver, secret)
    assert body["type"] == "consent.changed"
    assert body["data"]["purpose"] == "remarketing" and body["data"]["status"] == "withdrawn"
    assert body["data"]["customer"] == {"id": customer.pk, "external_ids": []}


def test_an_endpoint_gets_only_the_events_it_wants(receiver, loopback_allowed):
    make_storefront(receiver.url, event_types=["customer.erased"])
    consent_withdraw(
        purpose=Purpose.objects.get(code="remarketing"), source="mypage", customer=CustomerFactory()
    )
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_row_stands_or_falls_with_the_change(shop):
    customer = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        consent_withdraw(
            purpose=Purpose.objects.get(code="remarketing"), source="mypage", customer=customer
        )
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the change fails after the event")
    assert not WebhookDelivery.objects.exists()


def test_a_failing_subscriber_rolls_the_change_back(db):
    from apps.consents.models import ConsentEvent

    def broken(event):
        raise RuntimeError("cannot record the delivery")

    events.event_subscribe(broken)
    try:
        with pytest.raises(RuntimeError):
            consent_withdraw(
                purpose=Purpose.objects.get(code="remarketing"),
                source="mypage",
                customer=CustomerFactory(),
            )
    finally:
        events.event_unsubscribe(broken)
    assert not ConsentEvent.objects.exists()


def test_the_delivery_log_holds_no_personal_values_once_delivered(
    shop, receiver, django_capture_on_commit_callbacks
):
    client, endpoint, secret = shop
    customer = CustomerFactory(family_name="佐藤", given_name="一郎")
    ExternalCustomer.objects.create(client=client, external_id="sf-secret-77", customer=customer)
    endpoint.event_types = [*endpoint.event_types, "customer.corrected"]
    endpoint.save()
    with django_capture_on_commit_callbacks(execute=True):
        consent_withdraw(
            purpose=Purpose.objects.get(code="remarketing"), source="mypage", customer=customer
        )
        # The one event that carries values, by design: what the receiver must apply.
        event_publish(
            "customer.corrected",
            customer_id=customer.pk,
            data={"changes": {"family_name": "鈴木", "phone": "090-0000-1111"}},
        )
    received = {body["type"]: body for body in bodies(receiver, secret)}
    assert received["customer.corrected"]["data"]["changes"] == {
        "family_name": "鈴木",
        "phone": "090-0000-1111",
    }
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == 2
    logged = json.dumps(list(WebhookDelivery.objects.values()), default=str, ensure_ascii=False)
    for value in ("sf-secret-77", "鈴木", "090-0000-1111", customer.email, "佐藤", "一郎"):
        assert value not in logged, value
    corrected = WebhookDelivery.objects.get(event_type="customer.corrected")
    assert corrected.payload is None and corrected.data == {"fields": ["family_name", "phone"]}


def test_many_events_in_one_transaction_enqueue_one_send_per_endpoint(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            event_publish(
                "consent.changed",
                customer_id=n + 1,
                data={"purpose": "newsletter", "status": "granted"},
            )
    assert WebhookDelivery.objects.count() == 5
    sends = [c for c in callbacks if type(c).__name__ == "_SendOnCommit"]
    assert len(sends) == 1


def test_a_privacy_request_received_reaches_a_system_that_wants_it(
    receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    from apps.privacy_requests.services import privacy_request_create

    _endpoint, secret = make_storefront(receiver.url, event_types=["privacy_request.received"])
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        request = privacy_request_create(
            kind="stop_of_use", channel="mypage", customer=customer, requester_email=customer.email
        )
    [body] = bodies(receiver, secret)
    assert body["type"] == "privacy_request.received"
    assert body["data"]["request_id"] == request.pk and body["data"]["kind"] == "stop_of_use"
    assert body["data"]["customer"]["id"] == customer.pk
    assert customer.email not in receiver.requests[0]["body"].decode()


@pytest.mark.django_db(transaction=True)
def test_the_endpoints_are_read_once_per_transaction_and_again_in_the_next(
    receiver, loopback_allowed
):
    """A bulk change reads the endpoint list once; the next transaction (or the rest of one
    whose savepoint rolled back) reads it again, so a new endpoint is never missed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_storefront(receiver.url, event_types=["consent.changed"])
    with transaction.atomic(), CaptureQueriesContext(connection) as ten:
        for customer_id in range(1, 11):
            event_publish("consent.changed", customer_id=customer_id, data={"purpose": "p"})
    endpoint_reads = [q for q in ten.captured_queries if "webhookendpoint" in q["sql"].lower()]
    assert len(endpoint_reads) == 1
    assert WebhookDelivery.objects.count() == 10
    # Rolled back with its savepoint, the list is read again (and a new endpoint is seen).
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            event_publish("consent.changed", customer_id=1, data={"purpose": "p"})
            raise RuntimeError("rolled back")
        make_storefront(receiver.url, event_types=["consent.changed"], name="Second")
        event_publish("consent.changed", customer_id=2, data={"purpose": "p"})
    assert WebhookDelivery.objects.count() == 10 + 2


def test_withdrawing_every_consent_tells_the_systems_of_each_purpose(
    shop, receiver, django_capture_on_commit_callbacks
):
    """A member's "withdraw everything" (and an erasure's) is as many withdrawals as purposes:
    each reaches the storefront as its own consent.changed."""
    from apps.consents.services import consent_grant, consent_withdraw_all

    _client, _endpoint, secret = shop
    customer = CustomerFactory()
    codes = ["analytics", "remarketing"]
    for code in codes:
        consent_grant(purpose=Purpose.objects.get(code=code), source="mypage", customer=customer)
    WebhookDelivery.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        count = consent_withdraw_all(customer=customer, source="mypage", wording="all off")
    received = [body for body in bodies(receiver, secret) if body["type"] == "consent.changed"]
    assert count == len(received) == 2
    assert sorted(b["data"]["purpose"] for b in received) == codes
    assert {b["data"]["status"] for b in received} == {"withdrawn"}
    assert {b["data"]["customer"]["id"] for b in received} == {customer.pk}


def test_a_completed_privacy_request_reaches_a_system_that_wants_it(
    receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    from apps.core import roles
    from apps.privacy_requests.services import (
        privacy_request_answer_no_data,
        privacy_request_create_from_mypage,
    )
    from tests.privacy_requests.conftest import staff

    _endpoint, secret = make_storefront(receiver.url, event_types=["privacy_request.completed"])
    customer = CustomerFactory()
    request = privacy_request_create_from_mypage(customer=customer, kind="stop_of_use")
    assert not WebhookDelivery.objects.exists()  # received is not what this endpoint wants
    with django_capture_on_commit_callbacks(execute=True):
        privacy_request_answer_no_data(
            privacy_request=request, by=staff(roles.PRIVACY_OFFICER), reasons="nothing held"
        )
    [body] = bodies(receiver, secret)
    assert body["type"] == "privacy_request.completed"
    assert body["data"]["request_id"] == request.pk
    assert body["data"]["kind"] == "stop_of_use" and body["data"]["outcome"] == "no_data"
    assert body["data"]["customer"]["id"] == customer.pk
    assert customer.email not in receiver.requests[0]["body"].decode()
