"""Delivery against a real receiver on loopback: 2xx delivers and drops the body, failures wait
the retry schedule and are given up when it runs out, a timeout is a failure, 410 disables the
endpoint (rows wait for it), a day of failures disables it and mails the privacy officer."""

import datetime

import pytest
from django.utils import timezone

from apps.core.events import event_publish
from apps.integration.outbound.delivery import deliveries_send, retry_wait, webhook_sweep
from apps.integration.outbound.models import WebhookDelivery, WebhookEndpoint
from apps.integration.outbound.services import (
    webhook_delivery_replay,
    webhook_delivery_retry,
    webhook_endpoint_enable,
)

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def publish(customer_id=7):
    return event_publish(
        "consent.changed",
        customer_id=customer_id,
        data={"purpose": "mail_magazine", "status": "withdrawn", "source": "unsubscribe"},
    )


def make_due():
    WebhookDelivery.objects.filter(status=Status.FAILED).update(next_attempt_at=timezone.now())


def test_the_retry_schedule_is_the_setting_then_given_up(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 3600, 7200]
    assert [retry_wait(n).total_seconds() for n in range(1, 6)] == [5, 300, 1800, 3600, 7200]
    assert retry_wait(6) is None


def test_failures_back_off_by_the_schedule_and_a_2xx_delivers(storefront, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800]
    endpoint, _secret = storefront
    receiver.answers = [500, 503, 200]
    publish()
    expected = [(5, 500), (300, 503)]
    for attempt, (wait_s, code) in enumerate(expected, start=1):
        before = timezone.now()
        deliveries_send(endpoint_id=endpoint.pk)
        row = WebhookDelivery.objects.get()
        assert (row.status, row.attempts) == (Status.FAILED, attempt)
        assert row.last_response_code == code
        delay = (row.next_attempt_at - before).total_seconds()
        assert wait_s - 1 <= delay <= wait_s + 5, (attempt, delay)
        # Not due yet: a run now sends nothing.
        deliveries_send(endpoint_id=endpoint.pk)
        assert len(receiver.requests) == attempt
        make_due()
    deliveries_send(endpoint_id=endpoint.pk)
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.last_response_code) == (Status.DELIVERED, 3, 200)
    assert row.payload is None and row.delivered_at and row.first_attempt_at < row.delivered_at
    # The three attempts carried the same webhook-id, so the receiver can drop repeats.
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at


def test_a_delivery_is_given_up_when_the_schedule_runs_out(storefront, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [5]
    endpoint, _secret = storefront
    receiver.default = 500
    publish()
    deliveries_send(endpoint_id=endpoint.pk)
    make_due()
    deliveries_send(endpoint_id=endpoint.pk)
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.last_response_code) == (Status.GIVEN_UP, 2, 500)
    assert row.payload is not None  # kept for staff's retry
    assert row.last_error.startswith("HTTP 500")
    # Staff's "retry now" starts a fresh series, which the receiver now accepts.
    receiver.default = 200
    webhook_delivery_retry(delivery=row)
    deliveries_send(endpoint_id=endpoint.pk)
    row.refresh_from_db()
    assert row.status == Status.DELIVERED and row.attempts == 1


def test_a_timeout_is_a_failure_and_a_redirect_is_not_followed(storefront, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    endpoint, _secret = storefront
    receiver.answers = [("sleep", 1.0, 200), 302]
    publish()
    publish(customer_id=8)
    settings.WEBHOOK_CONCURRENCY = 1  # one after the other
    deliveries_send(endpoint_id=endpoint.pk)
    rows = list(WebhookDelivery.objects.order_by("pk"))
    assert [r.status for r in rows] == [Status.FAILED, Status.FAILED]
    assert rows[0].last_response_code is None and rows[0].last_error.startswith("Timeout")
    assert rows[1].last_response_code == 302
    assert len(receiver.requests) == 2  # nobody went to the Location


def test_410_disables_the_endpoint_and_its_rows_wait_for_it(
    storefront, receiver, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SHOP_PRIVACY_OFFICER_EMAIL = "dpo@shop.test"
    endpoint, _secret = storefront
    receiver.default = 410
    with django_capture_on_commit_callbacks(execute=True):
        publish()  # sent once the change commits (Celery eager here)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    row = WebhookDelivery.objects.get()
    assert row.status == Status.FAILED and row.payload is not None
    [mail] = mailoutbox
    assert mail.to == ["dpo@shop.test"] and "Storefront" in mail.subject
    # Disabled: new events get rows, nothing is sent and the sweep leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        publish(customer_id=9)
    assert deliveries_send(endpoint_id=endpoint.pk).sent == 0
    assert webhook_sweep() == 0
    assert WebhookDelivery.objects.count() == 2 and len(receiver.requests) == 1
    # Enabled again (the receiver is back): both are delivered.
    receiver.default = 200
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_enable(endpoint=endpoint)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_a_day_of_failures_disables_the_endpoint_and_mails_the_privacy_officer(
    storefront, receiver, mailoutbox, django_capture_on_commit_callbacks
):
    from apps.core import roles
    from tests.factories import make_staff

    officer = make_staff(roles.PRIVACY_OFFICER, email="officer@shop.test")
    endpoint, _secret = storefront
    receiver.default = 500
    publish()
    deliveries_send(endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - datetime.timedelta(hours=24, minutes=1)
    )
    make_due()
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_send(endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "24 hours" in endpoint.disabled_reason
    [mail] = mailoutbox
    assert mail.to == [officer.email]
    assert "/admin/integration/webhookendpoint/" in mail.body


def test_a_success_ends_the_failing_streak(storefront, receiver):
    endpoint, _secret = storefront
    receiver.answers = [500]
    publish()
    deliveries_send(endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since
    make_due()
    deliveries_send(endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_replay_sends_the_event_again_under_a_new_webhook_id(storefront, receiver):
    endpoint, secret = storefront
    event = publish()
    deliveries_send(endpoint_id=endpoint.pk)
    first = WebhookDelivery.objects.get()
    assert first.payload is None
    replay = webhook_delivery_replay(delivery=first)
    deliveries_send(endpoint_id=endpoint.pk)
    replay.refresh_from_db()
    assert replay.status == Status.DELIVERED and replay.replay_of == first
    one, two = receiver.requests
    assert one["headers"]["webhook-id"] != two["headers"]["webhook-id"]
    from standardwebhooks import Webhook

    again = Webhook(secret).verify(two["body"], two["headers"])
    assert again["id"] == f"evt_{event.id.hex}" and again["data"]["status"] == "withdrawn"
    assert Webhook(secret).verify(one["body"], one["headers"]) == again


def test_many_rows_go_over_few_connections(storefront, receiver, settings):
    settings.WEBHOOK_CONCURRENCY = 2
    endpoint, _secret = storefront
    for n in range(30):
        publish(customer_id=n + 1)
    report = deliveries_send(endpoint_id=endpoint.pk)
    assert report.delivered == 30
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == 30
    # Keep-alive: 30 requests over at most 2 connections (one per sending thread).
    assert len({r["client"] for r in receiver.requests}) <= 2


def test_a_row_left_delivering_by_a_killed_worker_is_sent_after_its_lease(storefront, receiver):
    endpoint, _secret = storefront
    publish()
    row = WebhookDelivery.objects.get()
    # A worker took it (leased for timeout + 60 s) and was killed before recording anything.
    WebhookDelivery.objects.filter(pk=row.pk).update(
        status=Status.DELIVERING, next_attempt_at=timezone.now() + datetime.timedelta(seconds=70)
    )
    assert deliveries_send(endpoint_id=endpoint.pk).sent == 0  # leased: nobody else takes it
    assert webhook_sweep() == 0
    WebhookDelivery.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert webhook_sweep() == 1  # the lease is over: due again
    deliveries_send(endpoint_id=endpoint.pk)
    row.refresh_from_db()
    assert row.status == Status.DELIVERED and len(receiver.requests) == 1


def test_sending_loads_no_row_one_by_one(storefront, receiver):
    """The claim reads every column the send and the record use: recording a batch costs a
    few statements, never one per row (a deferred column read later costs a query per row)."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    endpoint, _secret = storefront
    for customer_id in range(1, 31):
        publish(customer_id)
    with CaptureQueriesContext(connection) as queries:
        report = deliveries_send(endpoint_id=endpoint.pk)
    assert report.delivered == 30
    table = WebhookDelivery._meta.db_table
    one_by_one = [
        q["sql"] for q in queries
        if q["sql"].startswith("SELECT") and re.search(rf'FROM "{table}" WHERE "{table}"."id" = ', q["sql"])
    ]  # fmt: skip
    assert one_by_one == []
