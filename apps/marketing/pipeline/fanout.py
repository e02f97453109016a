"""Fan-out: a campaign's Delivery rows, written in one INSERT … SELECT, and its chunk ranges."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.db.models import Max, Min, Value

from apps.marketing.models import Campaign, Delivery
from apps.marketing.pipeline.sweep import campaign_finalize, chunk_size
from apps.marketing.selectors import eligible_with_consent_event

# The package's name, as before it was split: log configuration and readers keep working.
logger = logging.getLogger(__package__)


def _insert_deliveries(campaign: Campaign) -> None:
    rows = (
        eligible_with_consent_event(magazine=campaign.magazine)
        .order_by("customer_id")
        .annotate(
            d_campaign=Value(campaign.pk),
            d_status=Value(Delivery.Status.PENDING),
            d_empty=Value(""),
        )
        .values_list(
            "d_campaign", "customer_id", "pk", "consent_event_id", "d_status", "d_empty", "d_empty"
        )
    )
    select_sql, params = rows.query.sql_with_params()
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, customer_id, subscription_id, consent_event_id, "
            f"status, skip_reason, message_id) {select_sql} ON CONFLICT DO NOTHING",
            params,
        )


def campaign_fanout(*, campaign_id: int) -> list[tuple[int, int]]:
    """Write the campaign's deliveries and return the id ranges to send, one per chunk."""
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update().select_related("magazine").get(pk=campaign_id)
        )
        if campaign.status != Campaign.Status.SENDING:
            return []
        _insert_deliveries(campaign)
    bounds = Delivery.objects.filter(
        campaign_id=campaign_id, status=Delivery.Status.PENDING
    ).aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        campaign_finalize(campaign_id=campaign_id)
        return []
    size = chunk_size()
    ranges = [
        (lo, min(lo + size - 1, bounds["hi"])) for lo in range(bounds["lo"], bounds["hi"] + 1, size)
    ]
    logger.info("campaign fanned out campaign_id=%s chunks=%s", campaign_id, len(ranges))
    return ranges
