"""Fan-out: a campaign's Delivery rows, written in slices of MARKETING_FANOUT_SLICE recipients
(one INSERT … SELECT each, in customer id order, each in a short transaction of its own), and
the chunk ranges of each slice as soon as it is committed: sending starts after the first slice
instead of after the whole list."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Value
from django.utils import timezone

from apps.marketing.models import Campaign, Delivery
from apps.marketing.pipeline.sweep import campaign_finalize, chunk_size
from apps.marketing.selectors import eligible_with_consent_event

# The package's name, as before it was split: log configuration and readers keep working.
logger = logging.getLogger(__package__)


def _insert_slice(campaign: Campaign, *, after: int, limit: int) -> int:
    """Write the rows of the next `limit` eligible recipients whose customer id is above
    `after`; how many were written."""
    rows = (
        eligible_with_consent_event(magazine=campaign.magazine)
        .filter(customer_id__gt=after)
        .order_by("customer_id")
        .annotate(
            d_campaign=Value(campaign.pk),
            d_status=Value(Delivery.Status.PENDING),
            d_empty=Value(""),
        )
        .values_list(
            "d_campaign", "customer_id", "pk", "consent_event_id", "d_status", "d_empty", "d_empty"
        )[:limit]
    )
    select_sql, params = rows.query.sql_with_params()
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        # ON CONFLICT DO NOTHING: unique per campaign and recipient, whatever runs twice.
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, customer_id, subscription_id, consent_event_id, "
            f"status, skip_reason, message_id) {select_sql} ON CONFLICT DO NOTHING",
            params,
        )
        return cursor.rowcount


def _slice_ranges(campaign_id: int, *, after: int) -> list[tuple[int, int]]:
    """The id ranges, one chunk each, of the rows just written (customer id above `after`).
    Slices are written one after the other under the campaign's row lock, so a slice's ids are
    all above the previous slice's: the ranges of all slices cover every row exactly once."""
    bounds = Delivery.objects.filter(campaign_id=campaign_id, customer_id__gt=after).aggregate(
        lo=Min("id"), hi=Max("id")
    )
    if bounds["lo"] is None:
        return []
    size = chunk_size()
    return [
        (lo, min(lo + size - 1, bounds["hi"])) for lo in range(bounds["lo"], bounds["hi"] + 1, size)
    ]


def campaign_fanout_slices(*, campaign_id: int) -> Iterator[list[tuple[int, int]]]:
    """Write the campaign's deliveries slice by slice; after each slice is committed, yield its
    chunk ranges (the caller enqueues them, and they are sent while the next slice is written).

    Each slice locks the campaign row, goes on after the highest customer id the campaign
    already has rows for, and commits on its own; the last one (fewer rows than a slice) sets
    `fanned_out_at` in the same transaction. So a fan-out that died half-way is simply run
    again (the sweep does): it continues after the last committed slice, and two runs at once
    take turns. Delivery rows are never deleted while a campaign sends (an erasure unlinks
    them), so the highest customer id only grows. A cancelled campaign gets no further slice."""
    limit = max(settings.MARKETING_FANOUT_SLICE, 1)
    while True:
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update().select_related("magazine").get(pk=campaign_id)
            )
            if campaign.status != Campaign.Status.SENDING or campaign.fanned_out_at is not None:
                return
            after = (
                Delivery.objects.filter(campaign_id=campaign_id).aggregate(top=Max("customer_id"))[
                    "top"
                ]
                or 0
            )
            written = _insert_slice(campaign, after=after, limit=limit)
            last = written < limit
            if last:
                campaign.fanned_out_at = timezone.now()
                campaign.save(update_fields=["fanned_out_at"])
            ranges = _slice_ranges(campaign_id, after=after) if written else []
        logger.info(
            "campaign slice fanned out campaign_id=%s rows=%s chunks=%s last=%s",
            campaign_id, written, len(ranges), last,
        )  # fmt: skip
        if ranges:
            yield ranges
        if last:
            break
    # Chunks that ended before the last slice was committed could not finalize the campaign
    # (nor could anyone if the last slice was empty): look now.
    campaign_finalize(campaign_id=campaign_id)


def campaign_fanout(*, campaign_id: int) -> list[tuple[int, int]]:
    """The whole fan-out at once: every slice's chunk ranges (new rows only)."""
    return [r for ranges in campaign_fanout_slices(campaign_id=campaign_id) for r in ranges]
