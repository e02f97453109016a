"""The campaign pipeline in real Celery workers on the throwaway Redis and PostgreSQL, sending
to a real SMTP sink."""

import os
import signal
from collections import Counter

import pytest

from apps.consents.services import consent_withdraw
from apps.marketing import services
from apps.marketing.models import Campaign, Delivery
from tests.conftest import wait_until
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def _sent(c):
    c.refresh_from_db()
    return c.status == Campaign.Status.SENT


def test_only_eligible_people_receive_once(celery_workers, smtp_sink):
    celery_workers(MARKETING_CHUNK_SIZE=7)
    mag = magazine()
    people = [subscriber(mag) for _ in range(30)]
    for person in people[:5]:
        consent_withdraw(purpose=mag.purpose, source="mypage", customer=person)
    c = campaign(mag)
    services.campaign_send_now(campaign=c)
    wait_until(lambda: _sent(c), timeout=60)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m["to"])
    assert sorted(received) == sorted(p.email for p in people[5:])
    assert set(received.values()) == {1}
    message = smtp_sink.messages[0]["message"]
    assert message["List-Unsubscribe"] and message["List-Unsubscribe-Post"]
    assert Delivery.objects.filter(campaign=c, status="sent").count() == 25


def test_two_workers_on_duplicated_chunks_send_once(celery_workers, smtp_sink):
    from apps.marketing import pipeline
    from apps.marketing.tasks import campaign_chunk_task

    celery_workers("a", MARKETING_CHUNK_SIZE=10)
    celery_workers("b", MARKETING_CHUNK_SIZE=10)
    mag = magazine()
    people = [subscriber(mag) for _ in range(40)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    ranges = pipeline.campaign_fanout(campaign_id=c.pk)
    # Every chunk three times over, for two workers to race on.
    for _ in range(3):
        for lo, hi in ranges:
            campaign_chunk_task.delay(c.pk, lo, hi)
    wait_until(lambda: _sent(c), timeout=60)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m["to"])
    assert sorted(received) == sorted(p.email for p in people)
    assert max(received.values()) == 1


def test_a_worker_killed_mid_campaign_is_replaced_without_duplicates(celery_workers, smtp_sink):
    # A slow mail server, so the kill lands in the middle of the campaign.
    original = smtp_sink.handle_DATA

    async def slow_data(server, session, envelope):
        import asyncio

        await asyncio.sleep(0.02)
        return await original(server, session, envelope)

    smtp_sink.handle_DATA = slow_data
    fast = {"MARKETING_CHUNK_SIZE": 20, "MARKETING_STALE_SENDING_SECONDS": 3,
            "CELERY_VISIBILITY_TIMEOUT": 5}  # fmt: skip
    first = celery_workers("first", **fast)
    mag = magazine()
    people = [subscriber(mag) for _ in range(120)]
    c = campaign(mag)
    services.campaign_send_now(campaign=c)
    wait_until(lambda: len(smtp_sink.messages) >= 30, timeout=60, interval=0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    celery_workers("second", **fast)
    wait_until(lambda: _sent(c), timeout=120)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m["to"])
    assert max(received.values()) == 1, "somebody got the campaign twice"
    statuses = Counter(Delivery.objects.filter(campaign=c).values_list("status", flat=True))
    assert statuses["sent"] + statuses["unknown"] == len(people)
    assert statuses["unknown"] <= 20  # at most the chunk the killed worker was sending
    sent_to = set(
        Delivery.objects.filter(campaign=c, status="sent").values_list("customer__email", flat=True)
    )
    assert sent_to <= set(received)


def test_a_worker_killed_mid_chunk_leaves_at_most_one_batch_unknown_and_the_sweep_sends_the_rest(
    celery_workers, smtp_sink, settings
):
    from apps.marketing.tasks import campaign_sweep_task

    original = smtp_sink.handle_DATA

    async def slow_data(server, session, envelope):
        import asyncio

        await asyncio.sleep(0.02)
        return await original(server, session, envelope)

    smtp_sink.handle_DATA = slow_data
    # One chunk of 1,000 (the default) and a broker that would not hand the killed worker's
    # task to anyone else for an hour: only the sweep can finish the campaign.
    settings.MARKETING_STALE_SENDING_SECONDS = 3
    settings.MARKETING_SWEEP_IDLE_SECONDS = 2
    env = {"MARKETING_STALE_SENDING_SECONDS": 3, "MARKETING_SWEEP_IDLE_SECONDS": 2,
           "CELERY_VISIBILITY_TIMEOUT": 3600}  # fmt: skip
    first = celery_workers("first", **env)
    mag = magazine()
    people = [subscriber(mag) for _ in range(150)]
    c = campaign(mag)
    services.campaign_send_now(campaign=c)
    wait_until(lambda: len(smtp_sink.messages) >= 30, timeout=60, interval=0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    statuses = Counter(Delivery.objects.filter(campaign=c).values_list("status", flat=True))
    assert statuses["sending"] <= 20 and statuses["pending"] > 0

    celery_workers("second", **env)

    def swept_and_sent():
        campaign_sweep_task.delay()  # beat's job, every minute
        return _sent(c)

    wait_until(swept_and_sent, timeout=90, interval=2)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m["to"])
    assert max(received.values()) == 1, "somebody got the campaign twice"
    statuses = Counter(Delivery.objects.filter(campaign=c).values_list("status", flat=True))
    assert statuses["sent"] + statuses["unknown"] == len(people)
    assert statuses["unknown"] <= 20
    sent_to = set(
        Delivery.objects.filter(campaign=c, status="sent").values_list("customer__email", flat=True)
    )
    assert sent_to <= set(received)


def test_a_worker_killed_mid_fanout_leaves_a_campaign_the_sweep_finishes_once_each(
    celery_workers, smtp_sink, settings
):
    """The fan-out is held at its third slice (another transaction holds one recipient's
    unique key), its worker SIGKILLed there, and the broker would not hand the task to anyone
    for an hour: the sweep runs the fan-out again, from after the last committed slice."""
    import threading

    from django.db import connection, transaction

    from apps.marketing.tasks import campaign_sweep_task

    settings.MARKETING_SWEEP_IDLE_SECONDS = 2
    env = {"MARKETING_FANOUT_SLICE": 5, "MARKETING_CHUNK_SIZE": 5,
           "MARKETING_SWEEP_IDLE_SECONDS": 2, "CELERY_VISIBILITY_TIMEOUT": 3600}  # fmt: skip
    first = celery_workers("first", **env)
    mag = magazine()
    people = [subscriber(mag) for _ in range(22)]
    consent_withdraw(purpose=mag.purpose, source="mypage", customer=people[20])
    eligible = [p for p in people if p != people[20]]
    c = campaign(mag)
    held, release = threading.Event(), threading.Event()

    def hold_slice_three():
        try:
            with transaction.atomic():
                Delivery.objects.create(campaign=c, customer=people[12])
                held.set()
                release.wait(60)
                transaction.set_rollback(True)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_slice_three)
    holder.start()
    try:
        held.wait(10)
        services.campaign_send_now(campaign=c)
        wait_until(lambda: Delivery.objects.filter(campaign=c).count() == 10, timeout=60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        release.set()
        holder.join(10)
    c.refresh_from_db()
    assert c.fanned_out_at is None and Delivery.objects.filter(campaign=c).count() == 10

    celery_workers("second", **env)

    def swept_and_sent():
        campaign_sweep_task.delay()  # beat's job, every minute
        return _sent(c)

    wait_until(swept_and_sent, timeout=90, interval=2)
    per_person = Counter(Delivery.objects.filter(campaign=c).values_list("customer", flat=True))
    assert per_person == Counter(p.pk for p in eligible)
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m["to"])
    assert received == Counter(p.email for p in eligible)
