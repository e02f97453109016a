"""The fan-out in slices: each slice of recipients is committed and its chunks sent while the
next is written; the campaign is never `sent` before the last slice; a fan-out that stopped
half-way is finished by the sweep with one row per eligible recipient. Against a real SMTP sink,
in this process (Celery eager); the slice functions are driven by hand where the order matters."""

import datetime
from contextlib import ExitStack

import pytest
from celery.signals import task_prerun
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from apps.consents.services import consent_withdraw
from apps.marketing import pipeline, services
from apps.marketing.models import Campaign, Delivery
from tests.faults import broker_at, closed_url
from tests.marketing.helpers import campaign, magazine, received_by, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


@pytest.fixture
def small_slices(settings):
    settings.MARKETING_FANOUT_SLICE = 2
    settings.MARKETING_CHUNK_SIZE = 2


def _sending(c):
    Campaign.objects.filter(pk=c.pk).update(
        status=Campaign.Status.SENDING, started_at=timezone.now()
    )


def _send(c, ranges):
    for lo, hi in ranges:
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)


def _one_row_each(c):
    per_customer = Delivery.objects.filter(campaign=c).values("customer").annotate(n=Count("id"))
    return {row["customer"]: row["n"] for row in per_customer}


def test_the_first_slice_is_sent_before_the_later_slices_are_written(
    mag, smtp_settings, small_slices
):
    people = [subscriber(mag) for _ in range(5)]
    c = campaign(mag)
    _sending(c)
    slices = pipeline.campaign_fanout_slices(campaign_id=c.pk)

    first = next(slices)
    assert Delivery.objects.filter(campaign=c).count() == 2  # the first slice only
    _send(c, first)
    assert received_by(smtp_settings) == sorted(p.email for p in people[:2])
    c.refresh_from_db()
    assert c.status == "sending" and c.fanned_out_at is None  # later slices still to come
    assert Delivery.objects.filter(campaign=c).count() == 2

    rest = list(slices)
    for ranges in rest:
        _send(c, ranges)
    c.refresh_from_db()
    assert c.status == "sent" and c.fanned_out_at is not None
    assert received_by(smtp_settings) == sorted(p.email for p in people)
    # The ranges of all slices cover every row exactly once.
    ranges = [r for ranges in [first, *rest] for r in ranges]
    for delivery_id in Delivery.objects.filter(campaign=c).values_list("id", flat=True):
        assert sum(lo <= delivery_id <= hi for lo, hi in ranges) == 1


def test_send_now_starts_sending_the_first_slice_before_the_fanout_ends(
    mag, smtp_settings, small_slices, django_capture_on_commit_callbacks
):
    """Celery eager: each chunk task runs when it is enqueued. The first one runs while only the
    first slice's rows exist (seen through Celery's own task_prerun signal)."""
    people = [subscriber(mag) for _ in range(5)]
    c = campaign(mag)
    rows_when_a_chunk_started = []

    def count_rows(sender=None, args=(), **kwargs):
        if sender.name == "apps.marketing.tasks.campaign_chunk_task":
            rows_when_a_chunk_started.append(Delivery.objects.filter(campaign=c).count())

    task_prerun.connect(count_rows, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.campaign_send_now(campaign=c)
    finally:
        task_prerun.disconnect(count_rows)
    assert rows_when_a_chunk_started == [2, 4, 5]
    c.refresh_from_db()
    assert c.status == "sent"
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_finalize_refuses_a_campaign_whose_fanout_is_not_complete(mag, smtp_settings, small_slices):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    _sending(c)
    # Nothing written yet: nothing is pending, yet the campaign is not done.
    assert pipeline.campaign_finalize(campaign_id=c.pk) == pipeline.Finalize.PENDING
    c.refresh_from_db()
    assert c.status == "sending" and c.finished_at is None

    slices = pipeline.campaign_fanout_slices(campaign_id=c.pk)
    _send(c, next(slices))  # every row written so far is sent
    assert not Delivery.objects.filter(campaign=c).exclude(status="sent").exists()
    assert pipeline.campaign_finalize(campaign_id=c.pk) == pipeline.Finalize.PENDING
    c.refresh_from_db()
    assert c.status == "sending"

    for ranges in slices:
        _send(c, ranges)
    c.refresh_from_db()
    assert c.status == "sent"
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_a_fanout_stopped_after_a_slice_is_finished_by_the_sweep_one_row_each(
    mag, smtp_settings, small_slices
):
    people = [subscriber(mag) for _ in range(7)]
    consent_withdraw(purpose=mag.purpose, source="mypage", customer=people[3])
    eligible = [p for p in people if p != people[3]]
    c = campaign(mag)
    _sending(c)
    slices = pipeline.campaign_fanout_slices(campaign_id=c.pk)
    _send(c, next(slices))  # slice 1 written and sent
    next(slices)  # slice 2 committed, then the worker died: its chunks were never enqueued
    slices.close()
    assert Delivery.objects.filter(campaign=c).count() == 4
    c.refresh_from_db()
    assert c.status == "sending" and c.fanned_out_at is None

    # The sweep runs the fan-out again: it goes on after slice 2 (and sends what it writes).
    assert services.campaign_sweep() == {"fanout": 1}
    c.refresh_from_db()
    assert c.fanned_out_at is not None and c.status == "sending"  # slice 2 still pending
    # Once nobody has claimed anything for a while, the sweep sends slice 2's rows too.
    Delivery.objects.filter(campaign=c).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=2)
    )
    assert services.campaign_sweep() == {"chunks": 1}
    c.refresh_from_db()
    assert c.status == "sent"
    assert _one_row_each(c) == {p.pk: 1 for p in eligible}
    assert received_by(smtp_settings) == sorted(p.email for p in eligible)
    assert set(Delivery.objects.filter(campaign=c).values_list("status", flat=True)) == {"sent"}


def test_a_second_fanout_run_at_the_same_time_adds_nobody_twice(mag, smtp_settings, small_slices):
    people = [subscriber(mag) for _ in range(5)]
    c = campaign(mag)
    _sending(c)
    one = pipeline.campaign_fanout_slices(campaign_id=c.pk)
    two = pipeline.campaign_fanout_slices(campaign_id=c.pk)  # the sweep's, say
    ranges = [*next(one), *next(two), *next(one)]  # they take turns: slices 1, 2, 3
    assert list(one) == [] and list(two) == []  # and then there is nothing left
    _send(c, ranges)
    c.refresh_from_db()
    assert c.status == "sent"
    assert _one_row_each(c) == {p.pk: 1 for p in people}
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_cancelling_during_the_fanout_writes_no_further_slice(mag, smtp_settings, small_slices):
    for _ in range(5):
        subscriber(mag)
    c = campaign(mag)
    _sending(c)
    slices = pipeline.campaign_fanout_slices(campaign_id=c.pk)
    first = next(slices)
    services.campaign_cancel(campaign=c)
    assert list(slices) == []
    _send(c, first)
    assert smtp_settings.messages == []
    assert Delivery.objects.filter(campaign=c).count() == 2
    assert set(Delivery.objects.filter(campaign=c).values_list("skip_reason", flat=True)) == {
        "cancelled"
    }
    c.refresh_from_db()
    assert c.status == "cancelled"


def test_redis_down_during_the_fanout_loses_no_slice(
    mag, smtp_settings, small_slices, settings, caplog
):
    """Every slice's chunks fail to enqueue: the rows are all written all the same (the rows are
    the record), and once Redis is back the sweep sends each of them once."""
    from apps.marketing.tasks import campaign_fanout_task

    settings.MARKETING_CHUNK_SIZE = 10  # one chunk per slice

    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    _sending(c)
    with ExitStack() as redis_down:
        redis_down.enter_context(broker_at(closed_url()))
        campaign_fanout_task(c.pk)  # run by a worker; its enqueues go nowhere
    failed = [r for r in caplog.records if "enqueue failed" in r.getMessage()]
    assert len(failed) == 2  # one per slice (2 + 1 rows), as each slice was committed
    assert smtp_settings.messages == []
    c.refresh_from_db()
    assert c.fanned_out_at is not None and c.status == "sending"

    assert services.campaign_sweep() == {"chunks": 1}
    c.refresh_from_db()
    assert c.status == "sent"
    assert _one_row_each(c) == {p.pk: 1 for p in people}
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_staff_see_recipients_being_prepared_while_the_fanout_runs(
    client, marketer, mag, smtp_settings, small_slices
):
    for _ in range(3):
        subscriber(mag)
    c = campaign(mag)
    _sending(c)
    slices = pipeline.campaign_fanout_slices(campaign_id=c.pk)
    next(slices)
    url = reverse("admin:marketing_campaign_change", args=[c.pk])
    assert "preparing recipients (2 so far)" in client.get(url).content.decode()
    list(slices)
    assert "preparing recipients" not in client.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_campaigns_fanned_out_before_it_as_fanned_out(mag):
    """Before the marker, a campaign's rows were written in one transaction: one that has rows
    was fanned out whole, and without the marker it could never be `sent`."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    people = [subscriber(mag) for _ in range(2)]
    fanned, not_yet = campaign(mag), campaign(mag)
    Campaign.objects.filter(pk__in=[fanned.pk, not_yet.pk]).update(
        status=Campaign.Status.SENDING, started_at=timezone.now()
    )
    for person in people:
        Delivery.objects.create(campaign=fanned, customer=person)
    executor = MigrationExecutor(connection)
    executor.migrate([("marketing", "0008_verbose_names")])
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    fanned.refresh_from_db()
    not_yet.refresh_from_db()
    assert fanned.fanned_out_at == fanned.started_at
    assert not_yet.fanned_out_at is None  # the sweep fans it out
