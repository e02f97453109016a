"""Against real processes: PostgreSQL, Redis and a `celery worker` subprocess posting to a
receiver on loopback. A worker delivers (retrying a failure by itself), and deliveries whose
enqueue failed while Redis was down are sent after the sweep."""

import pytest
from standardwebhooks import Webhook

from apps.consents.models import Purpose
from apps.consents.services import consent_withdraw
from apps.integration.outbound.delivery import webhook_sweep
from apps.integration.outbound.models import WebhookDelivery
from tests.conftest import wait_until
from tests.factories import CustomerFactory
from tests.faults import broker_at, closed_url
from tests.outbound.conftest import make_storefront

pytestmark = [pytest.mark.services, pytest.mark.postgres]

Status = WebhookDelivery.Status


def _withdraw(customer):
    consent_withdraw(
        purpose=Purpose.objects.get(code="remarketing"), source="mypage", customer=customer
    )


def _delivered(count):
    return WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == count


def test_a_celery_worker_delivers_and_retries_by_itself(celery_workers, receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    celery_workers(WEBHOOK_RETRY_SCHEDULE="0.5,0.5")
    _endpoint, secret = make_storefront(receiver.url)
    receiver.answers = [500]  # the first attempt fails; the worker's own retry delivers
    customer = CustomerFactory()
    _withdraw(customer)
    wait_until(lambda: _delivered(1), timeout=30)
    row = WebhookDelivery.objects.get()
    assert row.attempts == 2 and row.payload is None
    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    body = Webhook(secret).verify(second["body"], second["headers"])
    assert body["data"]["customer"]["id"] == customer.pk


def test_redis_down_the_sweep_delivers_later(celery_workers, receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    worker = celery_workers()
    make_storefront(receiver.url)
    customers = [CustomerFactory(), CustomerFactory()]
    with broker_at(closed_url()):  # Redis stopped, for this process
        for customer in customers:
            _withdraw(customer)  # the change succeeds; its enqueue fails
    assert WebhookDelivery.objects.filter(status=Status.PENDING).count() == 2
    assert receiver.requests == []
    # Redis is back: beat's sweep enqueues, the worker sends.
    assert webhook_sweep() == 1
    wait_until(lambda: _delivered(2), timeout=30)
    assert len(receiver.requests) == 2
    log = worker.log_path.read_text()
    assert all(c.email not in log and c.family_name not in log for c in customers)
