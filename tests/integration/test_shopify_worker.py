"""Shopify's privacy webhook against real processes: the receiver answers at once, the job goes
through Redis to a real `celery worker` (which registers the task at start-up: workers only
autodiscover tasks.py), and the worker files the request through the real request app."""

import pytest

from apps.integration.models import ShopifyWebhook as Webhook
from apps.privacy_requests.models import PrivacyRequest
from tests.api.shopify_kit import EMAIL, PHONE, data_request, deliver, known
from tests.api.shopify_kit import shop as shop
from tests.conftest import wait_until

pytestmark = [
    pytest.mark.services,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"


def test_a_real_worker_files_the_disclosure_request(client, celery_worker_process, shop, smtp_sink):
    person = known(shop)
    response = deliver(client, "customers/data_request", data_request())
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    filed = wait_until(
        lambda: Webhook.objects.filter(pk=webhook.pk, state=Webhook.State.FILED).first(),
        timeout=60,
    )
    request = PrivacyRequest.objects.get(customer=person)
    assert filed.request_references == [request.reference]
    wait_until(lambda: smtp_sink.messages, timeout=30)
    assert [m["to"] for m in smtp_sink.messages] == [[person.email]]
    log = celery_worker_process.log_path.read_text()
    assert "shopify_webhook_process_task" in log and "succeeded" in log
    for value in (EMAIL, PHONE, person.email):
        assert value not in log
