"""A chunk's statements: the claim (with the record of the batch before and the eligibility
re-check, one round trip on PostgreSQL) and the record of what became of each claimed row. Every
record is an idempotent update from `sending`, so it can simply be written again."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from apps.core.db import retry_on_disconnect
from apps.marketing.models import Campaign, Delivery, SuppressedAddress
from apps.marketing.selectors import eligible_subscriptions
from apps.marketing.transport import MailServerUnavailable

_CLAIM_SQL = """
WITH sent AS (
    UPDATE {delivery} SET status = 'sent', sent_at = %s,
        message_id = %s || CAST(id AS varchar) || %s
    WHERE id = ANY(%s) AND status = 'sending'
), claimed AS (
    UPDATE {delivery} SET status = 'sending', claimed_at = %s
    WHERE id IN (
        SELECT id FROM {delivery}
        WHERE campaign_id = %s AND id BETWEEN %s AND %s AND status = 'pending'
        AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
        AND EXISTS (SELECT 1 FROM {campaign} WHERE id = %s AND status = 'sending')
        ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
    )
    RETURNING id, customer_id, subscription_id, attempts
), eligible AS (
    SELECT e.id FROM ({eligible}) AS e
    WHERE e.id = ANY(ARRAY(SELECT subscription_id FROM claimed))
)
SELECT claimed.id, c.email, c.family_name, c.given_name, claimed.subscription_id, s.email_hash,
       claimed.attempts, eligible.id IS NOT NULL
FROM claimed
JOIN {customer} AS c ON c.id = claimed.customer_id
LEFT JOIN {subscription} AS s ON s.id = claimed.subscription_id
LEFT JOIN eligible ON eligible.id = claimed.subscription_id
ORDER BY claimed.id
"""


def _claim_portable(campaign_id: int, lo: int, hi: int, limit: int, now) -> list[tuple]:
    """The claim for databases other than PostgreSQL (SQLite in `make run` and unit tests)."""
    if not Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).exists():
        return []
    pending = (
        Delivery.objects.select_for_update()
        .filter(campaign_id=campaign_id, id__gte=lo, id__lte=hi, status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
    )
    ids = list(pending.values_list("id", flat=True)[:limit])
    Delivery.objects.filter(id__in=ids, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENDING, claimed_at=now
    )
    return list(
        Delivery.objects.filter(id__in=ids)
        .order_by("id")
        .values_list(
            "id",
            "customer__email",
            "customer__family_name",
            "customer__given_name",
            "subscription_id",
            "subscription__email_hash",
            "attempts",
        )
    )


def _mark(ids: list[int], status: str, **extra) -> None:
    if ids:
        Delivery.objects.filter(id__in=ids, status=Delivery.Status.SENDING).update(
            status=status, **extra
        )


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff: base, 2×base, 4×base… after the 1st, 2nd, 3rd deferral, capped."""
    seconds = settings.MARKETING_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.MARKETING_RETRY_MAX_SECONDS))


@dataclass
class _Results:
    """What became of the claimed rows of one batch, by delivery id."""

    sent: list[int] = field(default_factory=list)
    failed: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    deferred: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # by attempts
    bounced_addresses: list[str] = field(default_factory=list)
    unavailable: MailServerUnavailable | None = None  # the server went away during the batch

    def done(self) -> set[int]:
        ids = set(self.sent)
        for group in (self.failed, self.skipped, self.deferred):
            for rows in group.values():
                ids.update(rows)
        return ids

    def counts(self) -> dict[str, int]:
        return {
            "sent": len(self.sent),
            "failed": sum(len(ids) for ids in self.failed.values()),
            "skipped": sum(len(ids) for ids in self.skipped.values()),
            "deferred": sum(len(ids) for ids in self.deferred.values()),
        }


FAILED_REFUSED = "refused by the mail server"
FAILED_BOUNCED = "bounced (refused at RCPT)"
FAILED_NEEDS_SMTPUTF8 = "non-ASCII address, no SMTPUTF8"
FAILED_BAD_ADDRESS = "address cannot be sent to"
FAILED_NOT_BUILT = "message could not be built"
FAILED_KEPT_DEFERRING = "mail server kept deferring"
FAILED_UNREACHABLE = "mail server unreachable"
SKIPPED_CHANGED = "address changed, not confirmed"
SKIPPED_INELIGIBLE = "not eligible at send time"
SKIPPED_CANCELLED = "cancelled"


def _skip_cancelled(campaign_id: int, lo: int, hi: int) -> int:
    return Delivery.objects.filter(
        campaign_id=campaign_id, id__gte=lo, id__lte=hi, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.SKIPPED, skip_reason=SKIPPED_CANCELLED)


def _defer_claimed(claimed) -> int:
    """Rows still `sending` from the batch that was claimed when the server went away (those
    _send_batch did not get to: the connection failed before it started)."""
    by_attempts = defaultdict(list)
    for row in claimed:
        by_attempts[row[6]].append(row[0])
    return _defer(by_attempts, status=Delivery.Status.SENDING)


def _defer(by_attempts: dict[int, list[int]], *, status: str) -> int:
    """Back to pending with one more attempt and a later retry time; given up (failed) after
    MARKETING_MAX_ATTEMPTS deferrals."""
    now = timezone.now()
    count = 0
    for attempts, ids in by_attempts.items():
        rows = Delivery.objects.filter(id__in=ids, status=status)
        if attempts + 1 >= settings.MARKETING_MAX_ATTEMPTS:
            count += rows.update(
                status=Delivery.Status.FAILED,
                skip_reason=FAILED_KEPT_DEFERRING,
                attempts=attempts + 1,
            )
        else:
            count += rows.update(
                status=Delivery.Status.PENDING,
                claimed_at=None,
                attempts=attempts + 1,
                next_attempt_at=now + retry_delay(attempts + 1),
            )
    return count


def _defer_range(campaign_id: int, lo: int, hi: int) -> int:
    """The mail server is unavailable: the range's due pending rows wait too (so staff see the
    campaign waiting for the mail server, and the sweep does not try again at once)."""
    now = timezone.now()
    due = Delivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        campaign_id=campaign_id,
        id__gte=lo,
        id__lte=hi,
        status=Delivery.Status.PENDING,
    )
    attempts = (due.aggregate(top=Max("attempts"))["top"] or 0) + 1
    gave_up = due.filter(attempts__gte=settings.MARKETING_MAX_ATTEMPTS - 1).update(
        status=Delivery.Status.FAILED, skip_reason=FAILED_UNREACHABLE, attempts=F("attempts") + 1
    )
    return gave_up + due.update(
        attempts=F("attempts") + 1, next_attempt_at=now + retry_delay(attempts)
    )


def _prepared_cursor():
    """A cursor whose statements PostgreSQL plans once per connection (a named prepared
    statement, protocol level: PgBouncer ≥ 1.21 passes those on) instead of on every run:
    planning the claim took three times as long as running it. Django turns psycopg's automatic
    preparing off; this one cursor asks for it. Wrapped as connection.cursor() wraps its own
    (query logging, execute wrappers, error translation)."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # None turns preparing off altogether. Django's own cursors bind on the client and never
        # prepare; this threshold is never reached, so only `prepare=True` prepares.
        raw.prepare_threshold = 2**31
    cursor = PreparingCursor(raw)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


class _ChunkQueries:
    """A chunk's one statement per batch, built once per chunk (building the eligibility query
    with the ORM costs more CPU than sending 20 mails): on PostgreSQL it records the previous
    batch's sent rows, claims the next batch (pending and due → sending, SKIP LOCKED) and
    re-checks the claimed people's eligibility, in one round trip and one transaction."""

    def __init__(self, campaign: Campaign):
        from apps.customers.models import Customer
        from apps.marketing.models import Subscription

        self.campaign = campaign
        self.postgres = connection.vendor == "postgresql"
        self.prefix = f"<c{campaign.pk}.d"
        self.suffix = "@" + campaign.magazine.from_email.rsplit("@", 1)[-1] + ">"
        if self.postgres:
            eligible = eligible_subscriptions(magazine=campaign.magazine).values_list("id")
            eligible_sql, self.eligible_params = eligible.query.sql_with_params()
            self.claim_sql = _CLAIM_SQL.format(
                delivery=Delivery._meta.db_table,
                campaign=Campaign._meta.db_table,
                customer=Customer._meta.db_table,
                subscription=Subscription._meta.db_table,
                eligible=eligible_sql,
            )

    def claim(self, lo: int, hi: int, limit: int, *, sent: list[int] = ()) -> list[tuple]:
        """Record `sent` as sent, then claim at most `limit` due pending rows of [lo, hi]: their
        id, address, name, subscription (None once an erasure unlinked it: claimed all the
        same, to be skipped rather than left pending for ever), confirmed address hash,
        attempts, and whether they are still eligible. A database restart meanwhile is ridden
        out: the mails in `sent` went out, and losing their record would leave them claimed."""
        return retry_on_disconnect(lambda: self._claim(lo, hi, limit, sent=sent))

    def _claim(self, lo: int, hi: int, limit: int, *, sent: list[int] = ()) -> list[tuple]:
        now = timezone.now()
        if self.postgres:
            params = [now, self.prefix, self.suffix, list(sent), now, self.campaign.pk, lo, hi,
                      now, self.campaign.pk, limit, *self.eligible_params]  # fmt: skip
            with transaction.atomic(), _prepared_cursor() as cursor:
                cursor.execute(self.claim_sql, params)
                return cursor.fetchall()
        with transaction.atomic():
            self.mark_sent(list(sent))
            rows = _claim_portable(self.campaign.pk, lo, hi, limit, now)
            eligible = set(
                eligible_subscriptions(magazine=self.campaign.magazine)
                .filter(pk__in=[row[4] for row in rows if row[4] is not None])
                .values_list("pk", flat=True)
            )
            return [(*row, row[4] in eligible) for row in rows]

    def mark_sent(self, ids: list[int]) -> None:
        retry_on_disconnect(lambda: self._mark_sent(ids))

    def _mark_sent(self, ids: list[int]) -> None:
        _mark(
            ids,
            Delivery.Status.SENT,
            sent_at=timezone.now(),
            message_id=Concat(
                Value(self.prefix),
                Cast("id", output_field=Delivery._meta.get_field("message_id")),
                Value(self.suffix),
            ),
        )


def _record(queries: _ChunkQueries, results: _Results, *, sent: bool = True) -> None:
    # Each step is an idempotent update from `sending` (or an insert that ignores a duplicate),
    # so after a database restart the whole record is simply written again.
    retry_on_disconnect(lambda: _record_once(queries, results, sent=sent))


def _record_once(queries: _ChunkQueries, results: _Results, *, sent: bool) -> None:
    # Sent first: of everything here, losing that record is what could send someone twice.
    if sent:
        queries.mark_sent(results.sent)
    for reason, ids in results.failed.items():
        _mark(ids, Delivery.Status.FAILED, skip_reason=reason)
    for reason, ids in results.skipped.items():
        _mark(ids, Delivery.Status.SKIPPED, skip_reason=reason)
    _defer(results.deferred, status=Delivery.Status.SENDING)
    if results.bounced_addresses:
        from apps.marketing.services import suppression_add

        # A 5xx at RCPT is a hard bounce: never mail that address again (kept as a keyed hash).
        for address in results.bounced_addresses:
            suppression_add(reason=SuppressedAddress.Reason.BOUNCED, address=address)
        results.bounced_addresses = []
