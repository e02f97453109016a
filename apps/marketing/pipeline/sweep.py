"""The sweep's reads and writes (services.campaign_sweep drives them) and the campaign's end."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Func, Max, Min, Q
from django.utils import timezone

from apps.marketing.models import Campaign, Delivery

logger = logging.getLogger(__package__)


def chunk_size() -> int:
    return settings.MARKETING_CHUNK_SIZE


def campaign_release_stale(*, campaign_id: int) -> int:
    """Rows left `sending` longer than a chunk can run belong to a lost worker: `unknown`, never
    resent (they may have gone out)."""
    stale_before = timezone.now() - datetime.timedelta(
        seconds=settings.MARKETING_STALE_SENDING_SECONDS
    )
    return Delivery.objects.filter(
        campaign_id=campaign_id, status=Delivery.Status.SENDING, claimed_at__lt=stale_before
    ).update(status=Delivery.Status.UNKNOWN)


def campaign_is_idle(*, campaign_id: int) -> bool:
    """No batch of this campaign was claimed lately: no chunk task is working on it (lost,
    never enqueued, or all finished with rows deferred)."""
    since = timezone.now() - datetime.timedelta(seconds=settings.MARKETING_SWEEP_IDLE_SECONDS)
    return not Delivery.objects.filter(campaign_id=campaign_id, claimed_at__gte=since).exists()


def campaign_due_ranges(*, campaign_id: int) -> list[tuple[int, int]]:
    """The id ranges (at most one chunk each) that hold pending rows due now, in one query."""
    size = chunk_size()
    rows = (
        Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
        # The chunk size written into the statement, not sent as a parameter: with parameters
        # bound on the server, the SELECT's and the GROUP BY's would be two different ones.
        .annotate(bucket=Func(F("id"), template=f"(%(expressions)s / {int(size)})"))
        .values("bucket")
        .annotate(lo=Min("id"), hi=Max("id"))
        .order_by("bucket")
        .values_list("lo", "hi")
    )
    return list(rows)


def campaign_is_fanned_out(*, campaign_id: int) -> bool:
    """Every slice of the fan-out is committed (the marker is set with the last one)."""
    return Campaign.objects.filter(pk=campaign_id, fanned_out_at__isnull=False).exists()


class Finalize:
    DONE = "done"  # the campaign is (now) sent
    PENDING = "pending"  # chunks still have rows to send, or the fan-out is not complete
    IN_FLIGHT = "in_flight"  # only rows being sent right now (or by a worker lost recently)


def campaign_seconds_until_stale(*, campaign_id: int) -> float:
    """When to look again at a campaign whose only open rows are in flight: the moment the last
    of them counts as stale (a lost worker's rows are then reported and the campaign finishes),
    not a whole stale period from now. A chunk that ends just after a worker was killed would
    otherwise wait 90 s more than needed."""
    newest = Delivery.objects.filter(
        campaign_id=campaign_id, status=Delivery.Status.SENDING
    ).aggregate(at=Max("claimed_at"))["at"]
    if newest is None:
        return 1.0
    stale_at = newest + datetime.timedelta(seconds=settings.MARKETING_STALE_SENDING_SECONDS)
    return max(1.0, (stale_at - timezone.now()).total_seconds() + 1)


def campaign_finalize(*, campaign_id: int) -> str:
    """Mark the campaign sent once its fan-out is complete and nothing is pending and nothing is
    in flight. Rows left in `sending` longer than a chunk can take belong to a lost worker:
    reported as unknown."""
    stale_before = timezone.now() - datetime.timedelta(
        seconds=settings.MARKETING_STALE_SENDING_SECONDS
    )
    # The fan-out marker first: once it is set no row is added, so "nothing pending" below
    # stays true. (Read after the rows, a last slice committed in between would be missed.)
    if Campaign.objects.filter(
        pk=campaign_id, status=Campaign.Status.SENDING, fanned_out_at__isnull=True
    ).exists():
        return Finalize.PENDING
    # Two lookups that stop at the first row found (the pending rows have an index of their
    # own), not a count of the whole campaign: every chunk ends with this, most with rows left.
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    if rows.filter(status=Delivery.Status.PENDING).exists():
        return Finalize.PENDING
    if rows.filter(status=Delivery.Status.SENDING, claimed_at__gte=stale_before).exists():
        return Finalize.IN_FLIGHT
    with transaction.atomic():
        updated = Campaign.objects.filter(
            pk=campaign_id, status=Campaign.Status.SENDING, fanned_out_at__isnull=False
        ).update(status=Campaign.Status.SENT, finished_at=timezone.now())
        if updated:
            Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.UNKNOWN
            )
    if updated:
        logger.info("campaign sent campaign_id=%s", campaign_id)
    return Finalize.DONE
