"""The campaign sending pipeline, run by Celery tasks (tasks.py).

1. fan-out: the eligible recipients are selected in SQL and their Delivery rows written in one
   INSERT … SELECT (unique per campaign and recipient, so a repeated fan-out adds nothing); then
   one chunk task per range of delivery ids.
2. chunk: claim the rows still pending (pending → sending, with SKIP LOCKED, so two workers
   never claim the same row), re-check their eligibility in one query just before sending (a
   withdrawal a second ago counts: those rows become `skipped`), send over one SMTP connection,
   record the results. A row is only ever sent from `sending`, and only by the chunk that claimed it:
   a retried, redelivered or duplicated chunk finds nothing left to claim.
3. finalize: when nothing is pending or in flight, the campaign is `sent`; rows a lost worker
   left in `sending` are reported `unknown` and never resent.
"""

from __future__ import annotations

import datetime
import email.utils
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from apps.marketing.mail import PreparedCampaign, Recipient
from apps.marketing.models import Campaign, Delivery
from apps.marketing.selectors import (
    address_hash,
    eligible_subscriptions,
    eligible_with_consent_event,
)
from apps.marketing.transport import ConnectionLost, RawSender

logger = logging.getLogger(__name__)


def chunk_size() -> int:
    return settings.MARKETING_CHUNK_SIZE


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


_CLAIM_SQL = """
UPDATE {delivery} AS d SET status = 'sending', claimed_at = %s
FROM {customer} AS c, {subscription} AS s
WHERE d.id IN (
    SELECT id FROM {delivery}
    WHERE campaign_id = %s AND id BETWEEN %s AND %s AND status = 'pending'
    ORDER BY id FOR UPDATE SKIP LOCKED
)
AND c.id = d.customer_id AND s.id = d.subscription_id
RETURNING d.id, c.email, c.family_name, c.given_name, s.id, s.email_hash
"""


def _claim(campaign_id: int, lo: int, hi: int) -> list[tuple]:
    """pending → sending for this range, atomically; returns the claimed rows with what is
    needed to send (one statement on PostgreSQL)."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        from apps.customers.models import Customer
        from apps.marketing.models import Subscription

        sql = _CLAIM_SQL.format(
            delivery=Delivery._meta.db_table,
            customer=Customer._meta.db_table,
            subscription=Subscription._meta.db_table,
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [now, campaign_id, lo, hi])
            return sorted(cursor.fetchall())
    with transaction.atomic():
        pending = Delivery.objects.select_for_update().filter(
            campaign_id=campaign_id, id__gte=lo, id__lte=hi, status=Delivery.Status.PENDING
        )
        ids = list(pending.values_list("id", flat=True))
        Delivery.objects.filter(id__in=ids, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SENDING, claimed_at=now
        )
        return sorted(
            Delivery.objects.filter(id__in=ids).values_list(
                "id",
                "customer__email",
                "customer__family_name",
                "customer__given_name",
                "subscription_id",
                "subscription__email_hash",
            )
        )


def _mark(ids: list[int], status: str, **extra) -> None:
    if ids:
        Delivery.objects.filter(id__in=ids, status=Delivery.Status.SENDING).update(
            status=status, **extra
        )


def campaign_send_chunk(*, campaign_id: int, lo: int, hi: int) -> dict[str, int]:
    """Send the pending deliveries with ids in [lo, hi]. Safe to run any number of times."""
    campaign = Campaign.objects.select_related("magazine").get(pk=campaign_id)
    if campaign.status != Campaign.Status.SENDING:
        skipped = Delivery.objects.filter(
            campaign_id=campaign_id, id__gte=lo, id__lte=hi, status=Delivery.Status.PENDING
        ).update(status=Delivery.Status.SKIPPED, skip_reason="cancelled")
        return {"sent": 0, "failed": 0, "skipped": skipped, "finalized": Finalize.PENDING}
    claimed = _claim(campaign_id, lo, hi)
    sent_ids, failed_ids, changed_ids, ineligible_ids = [], [], [], []
    if claimed:
        # Re-check just before sending, in one query over exactly the claimed subscriptions:
        # whoever stopped being eligible since the fan-out (a withdrawal a second ago, an
        # unsubscribe, a restriction, an erasure, a suppression) is skipped.
        still_eligible = set(
            eligible_subscriptions(magazine=campaign.magazine)
            .filter(pk__in=[row[4] for row in claimed])
            .values_list("pk", flat=True)
        )
        prepared = PreparedCampaign(campaign)
        date = email.utils.format_datetime(timezone.now())
        try:
            with RawSender() as sender:
                for delivery_id, address, family, given, subscription_id, confirmed_hash in claimed:
                    if subscription_id not in still_eligible:
                        ineligible_ids.append(delivery_id)
                        continue
                    if address_hash(address) != confirmed_hash:
                        changed_ids.append(delivery_id)  # the address changed: confirm it first
                        continue
                    raw, _message_id = prepared.render(
                        Recipient(
                            address=address,
                            name=f"{family} {given}".strip(),
                            subscription_id=subscription_id,
                            delivery_id=delivery_id,
                        ),
                        date=date,
                        eight_bit=sender.eight_bit,
                    )
                    accepted = sender.send(raw, prepared.from_address, address)
                    (sent_ids if accepted else failed_ids).append(delivery_id)
        except ConnectionLost:
            done = set(sent_ids) | set(failed_ids) | set(changed_ids) | set(ineligible_ids)
            remaining = [row[0] for row in claimed if row[0] not in done]
            # The message in flight may or may not have arrived: never resend it. The ones after
            # it were not attempted: they go back to pending for the retry.
            if remaining:
                _mark(remaining[:1], Delivery.Status.UNKNOWN)
                _mark(remaining[1:], Delivery.Status.PENDING, claimed_at=None)
            _record(campaign, sent_ids, failed_ids, changed_ids, ineligible_ids)
            raise
        _record(campaign, sent_ids, failed_ids, changed_ids, ineligible_ids)
    return {
        "sent": len(sent_ids),
        "failed": len(failed_ids),
        "skipped": len(changed_ids) + len(ineligible_ids),
        "finalized": campaign_finalize(campaign_id=campaign_id),
    }


def _record(campaign: Campaign, sent_ids, failed_ids, changed_ids, ineligible_ids) -> None:
    now = timezone.now()
    domain = campaign.magazine.from_email.rsplit("@", 1)[-1]
    _mark(
        sent_ids,
        Delivery.Status.SENT,
        sent_at=now,
        message_id=Concat(
            Value(f"<c{campaign.pk}.d"),
            Cast("id", output_field=Delivery._meta.get_field("message_id")),
            Value(f"@{domain}>"),
        ),
    )
    _mark(failed_ids, Delivery.Status.FAILED, skip_reason="refused by the mail server")
    _mark(changed_ids, Delivery.Status.SKIPPED, skip_reason="address changed, not confirmed")
    _mark(ineligible_ids, Delivery.Status.SKIPPED, skip_reason="not eligible at send time")


class Finalize:
    DONE = "done"  # the campaign is (now) sent
    PENDING = "pending"  # chunks still have rows to send
    IN_FLIGHT = "in_flight"  # only rows being sent right now (or by a worker lost recently)


def campaign_finalize(*, campaign_id: int) -> str:
    """Mark the campaign sent once nothing is pending and nothing is in flight. Rows left in
    `sending` longer than a chunk can take belong to a lost worker: reported as unknown."""
    stale_before = timezone.now() - datetime.timedelta(
        seconds=settings.MARKETING_STALE_SENDING_SECONDS
    )
    counts = Delivery.objects.filter(campaign_id=campaign_id).aggregate(
        pending=Count("id", filter=Q(status=Delivery.Status.PENDING)),
        in_flight=Count(
            "id", filter=Q(status=Delivery.Status.SENDING, claimed_at__gte=stale_before)
        ),
    )
    if counts["pending"]:
        return Finalize.PENDING
    if counts["in_flight"]:
        return Finalize.IN_FLIGHT
    with transaction.atomic():
        updated = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )
        if updated:
            Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.UNKNOWN
            )
    if updated:
        logger.info("campaign sent campaign_id=%s", campaign_id)
    return Finalize.DONE
