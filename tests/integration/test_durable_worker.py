"""Durable work against real processes: PostgreSQL, Redis, `celery worker` subprocesses and an
aiosmtpd sink. Work whose enqueue failed (Redis down) and work whose worker was killed are both
done, once, after the sweep."""

import asyncio
import signal

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse
from django.utils import timezone

from apps.bench.kit import free_port
from apps.core.durable import job_sweep
from apps.core.models import Job
from apps.customers.models import Inquiry
from apps.customers.services import inquiry_create
from apps.privacy_requests.models import Notice, PrivacyRequest
from tests.conftest import SinkHandler, wait_until
from tests.factories import CustomerFactory
from tests.faults import broker_at, closed_url

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def _all_done() -> bool:
    return Job.objects.exists() and not Job.objects.exclude(state=Job.State.DONE).exists()


def test_the_sweep_sends_what_could_not_be_enqueued_while_redis_was_down(
    client, celery_worker_process, smtp_sink
):
    member = CustomerFactory()
    client.force_login(member.user)
    with broker_at(closed_url()):  # Redis stopped, for this web process
        response = client.post(
            reverse("privacy_requests:create"),
            {"kind": "stop_of_use", "law": "appi", "details": "メルマガ不要"},
        )
        assert response.status_code == 302
        client.logout()
        response = client.post(
            reverse("contact"),
            {
                "name": "田中 一郎",
                "email": "ichiro@example.com",
                "topic": "privacy",
                "message": "質",
            },
        )
        assert response.status_code == 302

    request = PrivacyRequest.objects.get(customer=member)
    inquiry = Inquiry.objects.get()
    assert Job.objects.filter(state=Job.State.PENDING).count() == Job.objects.count() >= 2
    assert smtp_sink.messages == []

    # Redis is back: the sweep (due at once here) enqueues, and the real worker sends.
    Job.objects.update(next_attempt_at=timezone.now())
    assert job_sweep() == Job.objects.count()
    wait_until(_all_done, timeout=60)
    wait_until(lambda: len(smtp_sink.messages) >= 2, timeout=10)
    assert sorted(m["to"][0] for m in smtp_sink.messages) == sorted(
        [member.email, "ichiro@example.com"]
    )
    assert Notice.objects.get(privacy_request=request, kind=Notice.Kind.RECEIPT).sent_at
    assert Inquiry.objects.get(pk=inquiry.pk).acknowledged_at
    log = celery_worker_process.log_path.read_text()
    assert member.email not in log and "ichiro@example.com" not in log


class StallingSink(SinkHandler):
    """Holds the first message's DATA without answering (the worker is killed meanwhile);
    answers the next ones normally."""

    def __init__(self):
        super().__init__()
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == 1:
            await asyncio.sleep(60)
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_job_whose_worker_was_killed_is_done_once_after_its_lease(celery_workers):
    handler = StallingSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        email_url = f"smtp://127.0.0.1:{controller.port}"
        first = celery_workers("doomed", EMAIL_URL=email_url)
        inquiry = inquiry_create(name="x", email="killed@example.com", topic="other", message="m")
        job = Job.objects.get()
        wait_until(lambda: handler.seen == 1, timeout=60)  # the worker is mid-send
        assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING
        first.send_signal(signal.SIGKILL)
        first.wait(10)

        # Inside its lease the job is left alone; once the lease is over it is due again.
        assert job_sweep() == 0
        Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
        celery_workers("rescuer", EMAIL_URL=email_url)
        assert job_sweep() == 1
        wait_until(lambda: Job.objects.get(pk=job.pk).state == Job.State.DONE, timeout=60)
        job.refresh_from_db()
        assert job.attempts == 1 and job.last_error == ""
        assert [m["to"] for m in handler.messages] == [["killed@example.com"]]
        assert Inquiry.objects.get(pk=inquiry.pk).acknowledged_at is not None
    finally:
        controller.stop()
