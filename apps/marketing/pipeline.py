"""The campaign sending pipeline, run by Celery tasks (tasks.py).

The campaign in `sending` and its Delivery rows are the record of the work; Celery only makes it
fast. A lost task, a failed enqueue (Redis down), a killed worker or a mail server that refuses
connections delays the work; the sweep (every minute, services.campaign_sweep) picks it up again.

1. fan-out: the eligible recipients are selected in SQL and their Delivery rows written in one
   INSERT … SELECT (unique per campaign and recipient, so a repeated fan-out adds nothing); then
   one chunk task per range of delivery ids.
2. chunk: in half-batches of MARKETING_CLAIM_BATCH / 2 (10) over one SMTP connection, claim the
   due pending rows (pending → sending, with SKIP LOCKED, so two workers never claim the same
   row) and re-check their eligibility in the same statement (a withdrawal a second ago counts:
   those rows become `skipped`), send, record; the next half-batch is claimed (and the last one
   recorded) on a second connection while this one is sent, so at most 20 rows of a worker are
   ever in `sending`. A row is only ever
   sent from `sending`, and only by the chunk that claimed it: a retried, redelivered or
   duplicated chunk finds nothing left to claim. A server that is unreachable, times out or
   answers 4xx puts the rows back to pending with a retry time (exponential backoff); a 5xx
   fails that one recipient (at RCPT: a hard bounce, suppressed).
3. finalize: when nothing is pending or in flight, the campaign is `sent`; rows a lost worker
   left in `sending` are reported `unknown` and never resent (at most one batch per worker).
"""

from __future__ import annotations

import datetime
import email.utils
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from apps.core.db import retry_on_disconnect
from apps.marketing.mail import PreparedCampaign, Recipient, transport_address
from apps.marketing.models import Campaign, Delivery, SuppressedAddress
from apps.marketing.selectors import (
    address_hash,
    eligible_subscriptions,
    eligible_with_consent_event,
)
from apps.marketing.transport import MailServerUnavailable, Outcome, RawSender

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


def _send_batch(
    campaign, prepared: PreparedCampaign, sender: RawSender, claimed, queries: _ChunkQueries
) -> _Results:
    """Send one claimed batch and record it. Whatever happens, every claimed row ends recorded
    or back in pending: when the server goes away the message in flight and the rest are
    deferred (the server never took them; `unavailable` says so), any other exception (a time
    limit) puts the rows not attempted back untouched, and is raised again."""
    results = _Results()
    # Re-check just before sending, in one query over exactly the claimed subscriptions:
    # whoever stopped being eligible since the fan-out (a withdrawal a second ago, an
    # unsubscribe, a restriction, an erasure, a suppression) is skipped.
    date = email.utils.format_datetime(timezone.now())
    try:
        for row in claimed:
            delivery_id, address, family, given, subscription_id, confirmed_hash = row[:6]
            attempts, still_eligible = row[6:8]
            if subscription_id is None or not still_eligible:
                results.skipped[SKIPPED_INELIGIBLE].append(delivery_id)
                continue
            if address_hash(address) != confirmed_hash:
                results.skipped[SKIPPED_CHANGED].append(delivery_id)  # confirm it first
                continue
            # One recipient can never break the batch: whatever fails building their message
            # fails their row only, and is logged by class and delivery id (an exception's
            # text may hold the address or the unsubscribe token).
            try:
                to = transport_address(address)
                needs_utf8 = not to.isascii()
                if needs_utf8 and not sender.smtputf8:
                    results.failed[FAILED_NEEDS_SMTPUTF8].append(delivery_id)
                    continue
                raw, _message_id = prepared.render(
                    Recipient(
                        address=to,
                        name=f"{family} {given}".strip(),
                        subscription_id=subscription_id,
                        delivery_id=delivery_id,
                    ),
                    date=date,
                    eight_bit=sender.eight_bit,
                )
            except Exception as exc:
                reason = FAILED_BAD_ADDRESS if isinstance(exc, ValueError) else FAILED_NOT_BUILT
                logger.warning(
                    "campaign message not built delivery_id=%s error=%s",
                    delivery_id,
                    type(exc).__name__,
                )
                results.failed[reason].append(delivery_id)
                continue
            try:
                outcome = sender.send(raw, prepared.from_address, to, utf8=needs_utf8)
            except MailServerUnavailable:
                raise
            except Exception as exc:
                # Nothing was accepted for this one; if the connection is broken by it, the next
                # message finds out (MailServerUnavailable) and the rest waits.
                logger.warning(
                    "campaign message not sent delivery_id=%s error=%s",
                    delivery_id,
                    type(exc).__name__,
                )
                results.failed[FAILED_REFUSED].append(delivery_id)
                continue
            if outcome is Outcome.SENT:
                results.sent.append(delivery_id)
            elif outcome is Outcome.DEFERRED:
                results.deferred[attempts].append(delivery_id)
            elif outcome is Outcome.BOUNCED:
                results.failed[FAILED_BOUNCED].append(delivery_id)
                results.bounced_addresses.append(address)
            else:
                results.failed[FAILED_REFUSED].append(delivery_id)
    except MailServerUnavailable as exc:
        done = results.done()
        for row in claimed:
            if row[0] not in done:
                results.deferred[row[6]].append(row[0])
        _record(queries, results)
        results.unavailable = exc
        return results
    except BaseException:
        _record(queries, results)
        done = results.done()
        _mark([row[0] for row in claimed if row[0] not in done], Delivery.Status.PENDING,
              claimed_at=None)  # fmt: skip
        raise
    _record(queries, results, sent=False)  # the sent ones: with the next claim
    return results


def campaign_send_chunk(*, campaign_id: int, lo: int, hi: int) -> dict[str, int]:
    """Send the due pending deliveries with ids in [lo, hi] over one SMTP connection, claiming
    and recording them in batches: while one batch is being sent, the next is claimed (and the
    one before recorded) in one statement on a second database connection, so the database
    never makes the mail server wait. At most two half-batches (MARKETING_CLAIM_BATCH rows in
    all) are ever in `sending`: a worker killed mid-chunk leaves at most that many `unknown`,
    the rest pending for the sweep. Safe to run any number of times."""
    campaign = Campaign.objects.select_related("magazine").get(pk=campaign_id)
    totals = {"sent": 0, "failed": 0, "skipped": 0, "deferred": 0}
    if campaign.status != Campaign.Status.SENDING:
        totals["skipped"] = _skip_cancelled(campaign_id, lo, hi)
        return {**totals, "finalized": Finalize.PENDING}
    half = max(settings.MARKETING_CLAIM_BATCH // 2, 1)
    queries = _ChunkQueries(campaign)
    claimed = queries.claim(lo, hi, half)
    if claimed:
        prepared = PreparedCampaign(campaign)
        with _Ahead(queries) as ahead:
            following = ahead.claim(claimed[-1][0] + 1, hi, half)
            try:
                with RawSender() as sender:
                    while claimed:
                        results = _send_batch(campaign, prepared, sender, claimed, queries)
                        for key, value in results.counts().items():
                            totals[key] += value
                        if results.unavailable:
                            raise results.unavailable
                        # The next batch was claimed while this one was sent; claim the one
                        # after it (from the last id claimed: each claim reads only its own
                        # index entries) and record this one, while the next is sent.
                        claimed = ahead.wait(following, also_sent=results.sent)
                        following = ahead.claim(
                            (claimed[-1][0] if claimed else hi) + 1, hi, half, sent=results.sent
                        )
                    ahead.wait(following)  # records the last batch (claims nothing more)
            except MailServerUnavailable as exc:
                # Unreachable, timed out, dropped or closing: the rows claimed and not sent go
                # back to pending with a retry time, and the whole range waits.
                cause = exc.__cause__ or exc
                unsent = claimed + ahead.wait(following)
                deferred = _defer_claimed(unsent) + _defer_range(campaign_id, lo, hi)
                totals["deferred"] += deferred
                logger.warning(
                    "mail server unavailable campaign_id=%s lo=%s hi=%s error=%s deferred=%s",
                    campaign_id, lo, hi, type(cause).__name__, deferred,
                )  # fmt: skip
            except BaseException:
                # A time limit: the batch claimed ahead goes back untouched, for the sweep.
                _mark([row[0] for row in ahead.wait(following)], Delivery.Status.PENDING,
                      claimed_at=None)  # fmt: skip
                raise
        if not Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).exists():
            totals["skipped"] += _skip_cancelled(campaign_id, lo, hi)  # cancelled meanwhile
    return {**totals, "finalized": campaign_finalize(campaign_id=campaign_id)}


class _Ahead:
    """Runs the chunk's claim statements on a second thread (and so a second database
    connection) while this one talks to the mail server. Inside a transaction (a test, a
    caller's atomic block) another connection would not see its rows: the statements then run
    here, at once, in the same order."""

    def __init__(self, queries: _ChunkQueries):
        self.queries = queries

    def __enter__(self):
        import concurrent.futures

        self.inline = connection.in_atomic_block or connection.vendor != "postgresql"
        self.pool = None
        if not self.inline:
            # The task's query instrumentation (execute wrappers) watches that connection too.
            wrappers = list(connection.execute_wrappers)
            self.pool = concurrent.futures.ThreadPoolExecutor(
                1, initializer=lambda: connection.execute_wrappers.extend(wrappers)
            )
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            # That thread's own connection (`connection` is looked up in the thread).
            self.pool.submit(lambda: connection.close()).result()
            self.pool.shutdown()

    def claim(self, lo: int, hi: int, limit: int, *, sent: list[int] = ()):
        """queries.claim, started now; `wait` gives its rows."""
        import concurrent.futures

        if self.pool is not None:
            future = self.pool.submit(self.queries.claim, lo, hi, limit, sent=sent)
        else:
            future = concurrent.futures.Future()
            try:
                future.set_result(self.queries.claim(lo, hi, limit, sent=sent))
            except Exception as exc:
                future.set_exception(exc)
        future.sent = list(sent)
        return future

    def wait(self, future, *, also_sent: list[int] = ()) -> list[tuple]:
        """The rows the statement claimed. If it failed, the rows it was to record as sent (and
        `also_sent`) are recorded here, as they went out, before the error is raised."""
        try:
            return future.result()
        except BaseException:
            self.queries.mark_sent([*future.sent, *also_sent])
            raise


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
            with transaction.atomic(), connection.cursor() as cursor:
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


# ------------------------------------------------------------------ the sweep's reads and writes


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
        .annotate(bucket=F("id") / size)
        .values("bucket")
        .annotate(lo=Min("id"), hi=Max("id"))
        .order_by("bucket")
        .values_list("lo", "hi")
    )
    return list(rows)


def campaign_has_deliveries(*, campaign_id: int) -> bool:
    return Delivery.objects.filter(campaign_id=campaign_id).exists()


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
