"""The campaign and its Delivery rows are the record; the sweep (beat, every minute) and staff's
"resume sending" finish a campaign whose fan-out or chunk task never ran, and a campaign whose
recipient was erased mid-way still finishes. Celery is eager in this process, so whatever the
sweep enqueues runs here, against a real SMTP sink."""

import datetime
from contextlib import ExitStack
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.privacy import personal_data_erase
from apps.marketing import pipeline, services
from apps.marketing.models import Campaign, Delivery
from tests.faults import broker_at, closed_url
from tests.marketing.helpers import campaign, magazine, received_by, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


def _status(c):
    c.refresh_from_db()
    return c.status


def test_the_sweep_is_in_beats_schedule_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="marketing: sweep sending campaigns")
    assert task.task == "apps.marketing.tasks.campaign_sweep_task" and task.enabled
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_the_sweep_fans_out_a_campaign_whose_fanout_was_never_enqueued(
    mag, smtp_settings, django_capture_on_commit_callbacks
):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue never happens
        services.campaign_send_now(campaign=c)
    assert _status(c) == "sending" and not Delivery.objects.filter(campaign=c).exists()

    assert services.campaign_sweep() == {"fanout": 1}
    assert _status(c) == "sent"
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_the_sweep_sends_the_rows_of_a_lost_chunk_task(mag, smtp_settings, settings):
    settings.MARKETING_CHUNK_SIZE = 2
    people = [subscriber(mag) for _ in range(5)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    lo, hi = pipeline.campaign_fanout(campaign_id=c.pk)[0]  # its chunk tasks were lost
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)  # one of three ran
    assert len(smtp_settings.messages) == 2
    # Claimed a moment ago: the sweep leaves the campaign to the chunks still at work on it…
    assert services.campaign_sweep() == {pipeline.Finalize.PENDING: 1}
    # …and once nobody has claimed anything for a while, sends the rest itself.
    Delivery.objects.filter(campaign=c).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=2)
    )
    assert services.campaign_sweep() == {"chunks": 1}
    assert _status(c) == "sent"
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_the_sweep_reports_rows_of_a_lost_worker_unknown_and_finishes(mag, smtp_settings, settings):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    pipeline.campaign_fanout(campaign_id=c.pk)
    lost = Delivery.objects.get(customer=people[0])
    stale = timezone.now() - datetime.timedelta(
        seconds=settings.MARKETING_STALE_SENDING_SECONDS + 1
    )
    Delivery.objects.filter(pk=lost.pk).update(status="sending", claimed_at=stale)
    services.campaign_sweep()
    assert _status(c) == "sent"
    lost.refresh_from_db()
    assert lost.status == "unknown"  # it may have gone out: never resent
    assert received_by(smtp_settings) == sorted(p.email for p in people[1:])


def test_a_chunk_ending_after_a_worker_was_killed_looks_again_when_its_rows_turn_stale(
    mag, smtp_settings, settings
):
    """Killed 80 s ago with a batch claimed: the last chunk's check comes back in about 11 s,
    when those rows count as stale, not a whole stale period (91 s) later."""
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    pipeline.campaign_fanout(campaign_id=c.pk)
    killed_at = timezone.now() - datetime.timedelta(seconds=80)
    Delivery.objects.filter(customer=people[0]).update(status="sending", claimed_at=killed_at)
    Delivery.objects.exclude(customer=people[0]).update(status="sent")

    assert pipeline.campaign_finalize(campaign_id=c.pk) == pipeline.Finalize.IN_FLIGHT
    wait = pipeline.campaign_seconds_until_stale(campaign_id=c.pk)
    assert settings.MARKETING_STALE_SENDING_SECONDS - 80 <= wait <= 12
    # Then (the rows now older than the stale period) the campaign finishes.
    Delivery.objects.filter(customer=people[0]).update(
        claimed_at=killed_at - datetime.timedelta(seconds=wait)
    )
    assert pipeline.campaign_finalize(campaign_id=c.pk) == pipeline.Finalize.DONE
    assert _status(c) == "sent"
    # Nothing in flight: look again at once.
    assert pipeline.campaign_seconds_until_stale(campaign_id=c.pk) == 1.0


def test_staff_resume_sending_retries_now_what_waits_for_the_mail_server(
    client, marketer, mag, smtp_settings, django_capture_on_commit_callbacks
):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    pipeline.campaign_fanout(campaign_id=c.pk)
    Delivery.objects.filter(campaign=c).update(
        attempts=2, next_attempt_at=timezone.now() + datetime.timedelta(minutes=10)
    )
    page = client.get(reverse("admin:marketing_campaign_change", args=[c.pk])).content.decode()
    assert "3 waiting for the mail server (next try" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:marketing_campaign_changelist"),
            {"action": "resume_sending", "_selected_action": [c.pk]},
            follow=True,
        )
    assert "sending resumed (1)" in response.content.decode().lower()
    assert _status(c) == "sent"
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_resume_sending_refuses_a_campaign_that_is_not_sending(client, marketer, mag):
    c = campaign(mag)
    response = client.post(
        reverse("admin:marketing_campaign_changelist"),
        {"action": "resume_sending", "_selected_action": [c.pk]},
        follow=True,
    )
    assert "Only a campaign that is sending can be resumed." in response.content.decode()
    assert _status(c) == "draft"


@pytest.fixture
def broker_down():
    """Redis down for this process (tests/faults.py), with `back_up()` to bring it back."""
    with ExitStack() as stack:
        stack.enter_context(broker_at(closed_url()))
        yield SimpleNamespace(back_up=stack.close)


def test_send_now_with_redis_down_answers_and_the_sweep_sends_once_it_is_back(
    client, marketer, mag, smtp_settings, django_capture_on_commit_callbacks, broker_down, caplog
):
    people = [subscriber(mag) for _ in range(2)]
    c = campaign(mag)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:marketing_campaign_changelist"),
            {"action": "send_now", "_selected_action": [c.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert _status(c) == "sending" and smtp_settings.messages == []
    [failed] = [r for r in caplog.records if "enqueue failed" in r.getMessage()]
    assert failed.getMessage().startswith(
        f"enqueue failed task=apps.marketing.tasks.campaign_fanout_task ids=({c.pk},) error="
    )

    broker_down.back_up()
    services.campaign_sweep()
    assert _status(c) == "sent"
    assert received_by(smtp_settings) == sorted(p.email for p in people)


@pytest.mark.postgres
def test_erasing_a_recipient_during_a_campaign_lets_it_finish(mag, smtp_settings):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    [(lo, hi)] = pipeline.campaign_fanout(campaign_id=c.pk)
    # Erased between the fan-out and the chunk: the subscription is deleted and the delivery
    # unlinked from it (kept, ids only, as the record of consent).
    personal_data_erase(customer_id=people[1].pk)
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert _status(c) == "sent"
    erased = Delivery.objects.get(customer=people[1])
    assert erased.status == "skipped" and erased.skip_reason == "not eligible at send time"
    assert received_by(smtp_settings) == sorted([people[0].email, people[2].email])
