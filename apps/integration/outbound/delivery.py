"""Sending webhook deliveries: durable rows, Celery as the fast path, a sweep as the safety net.

A delivery row is written in the transaction of the change (hub.py) and is the record of the
work. ``deliveries_send`` (the task ``webhook_send_task``) takes an endpoint's due rows with
``FOR UPDATE SKIP LOCKED`` and marks them ``delivering`` for a lease, so two workers never send
the same row at once; it keeps up to WEBHOOK_CONCURRENCY requests in flight over keep-alive
connections (one urllib3 pool per run, shared by its sending threads), so one slow receiver call holds one
slot, not the rows behind it, and records the answers in small bulk updates:

- a 2xx: ``delivered``; the body is dropped (``payload=None``);
- 410 Gone: the endpoint is disabled (the privacy officer is mailed) and the row waits for it
  to be enabled again (nothing is given up on the receiver's word alone);
- anything else (an error status, a timeout after WEBHOOK_TIMEOUT_SECONDS, a refused
  connection, a redirect: none is followed): ``failed`` and due again after the next wait of
  WEBHOOK_RETRY_SCHEDULE; when the schedule runs out, ``given_up`` (staff see it and can retry).
  An endpoint whose every attempt has failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled and
  the privacy officer is mailed.

The sweep (``webhook_sweep``, beat every minute) enqueues a task for each endpoint with due
rows: never enqueued (Redis was down at commit), waiting for a retry, or ``delivering`` past
its lease (the worker was killed). It changes no row, so sweeps on several machines only add
tasks that find nothing left to take.

At least once: a worker killed between the receiver's 2xx and the record sends the row again
after its lease, with the same ``webhook-id``; receivers drop ids they have seen.
What staff and the log see: ids, statuses, response codes, durations and a fixed reason per
kind of failure, never a body or a receiver's answer.
"""

from __future__ import annotations

import datetime
import logging
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.core.durable import durable_enqueue
from apps.integration.outbound.models import WebhookDelivery, WebhookEndpoint, WebhookSecret
from apps.integration.outbound.signing import signed_headers, signers

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
DUE_STATUSES = [Status.PENDING, Status.FAILED, Status.DELIVERING]
# The most of a receiver's answer read (then dropped); a longer one closes the connection.
MAX_ANSWER_BYTES = 64 * 1024
GONE = 410


@dataclass(frozen=True)
class Outcome:
    pk: int
    at: datetime.datetime
    code: int | None
    duration_ms: int
    error: str  # "" for an answer; else a fixed reason


def retry_wait(attempts: int) -> datetime.timedelta | None:
    """The wait after `attempts` failed attempts; None when the schedule is spent."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    return datetime.timedelta(seconds=schedule[attempts - 1])


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def sendable_endpoints():
    return WebhookEndpoint.objects.filter(enabled=True, system__is_active=True)


def secrets_in_force(endpoint_id: int, now: datetime.datetime) -> list[str]:
    return list(
        WebhookSecret.objects.filter(endpoint_id=endpoint_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at", "-pk")
        .values_list("secret", flat=True)
    )


# ---------------------------------------------------------------------- claiming


def _claim(endpoint_id: int, limit: int) -> list[WebhookDelivery]:
    """Take up to `limit` due rows of the endpoint for a lease: ``delivering`` until the lease
    ends (a worker killed meanwhile leaves them to the sweep). The rows carry what sending and
    recording read, no more."""
    if connection.vendor == "postgresql":
        return _claim_postgresql(endpoint_id, limit)
    with transaction.atomic():
        now = timezone.now()
        rows = list(
            # Only the delivery rows are locked, not the endpoint and system joined in.
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                endpoint_id=endpoint_id,
                endpoint__enabled=True,
                endpoint__system__is_active=True,
                status__in=DUE_STATUSES,
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "pk")
            .only(*_CLAIMED)[:limit]
        )
        if rows:
            WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=Status.DELIVERING, next_attempt_at=now + _lease()
            )
    return rows


# The columns a claimed row carries: what sending and recording read (a column left out would
# be read back one query per row).
_CLAIMED = ("id", "msg_id", "payload", "attempts", "first_attempt_at", "event_type")


def _claim_postgresql(endpoint_id: int, limit: int) -> list[WebhookDelivery]:
    """The same claim as one statement (lock, lease and read), without the ORM's compiling: it
    runs for every handful of webhooks sent."""
    from apps.integration.outbound.models import DownstreamSystem

    quote = connection.ops.quote_name
    delivery = quote(WebhookDelivery._meta.db_table)
    endpoint = quote(WebhookEndpoint._meta.db_table)
    system = quote(DownstreamSystem._meta.db_table)
    now = timezone.now()
    # Names come from the models, values are parameters.
    sql = (
        "WITH picked AS ("  # noqa: S608
        f" SELECT d.id FROM {delivery} d"
        f" JOIN {endpoint} e ON e.id = d.endpoint_id JOIN {system} s ON s.id = e.system_id"
        " WHERE d.endpoint_id = %s AND e.enabled AND s.is_active"
        " AND d.status = ANY(%s) AND d.next_attempt_at <= %s"
        " ORDER BY d.next_attempt_at, d.id LIMIT %s FOR UPDATE OF d SKIP LOCKED)"
        f" UPDATE {delivery} AS d SET status = %s, next_attempt_at = %s FROM picked"
        f" WHERE d.id = picked.id RETURNING {', '.join('d.' + quote(c) for c in _CLAIMED)}"
    )
    params = [endpoint_id, list(DUE_STATUSES), now, limit, Status.DELIVERING, now + _lease()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = sorted(cursor.fetchall())  # in the order published
    return [WebhookDelivery(**dict(zip(_CLAIMED, values, strict=True))) for values in found]


# ---------------------------------------------------------------------- sending


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "Timeout: the receiver did not answer in time"
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return "ConnectionError: the receiver refused or dropped the connection"
    return f"{type(exc).__name__}: the request failed"[:200]


class _Sender:
    """Posts rows to one endpoint from a pool of threads over one urllib3 connection pool:
    at most `concurrency` keep-alive connections, reused from row to row."""

    def __init__(self, endpoint: WebhookEndpoint, secrets: list[str], concurrency: int):
        parts = urlsplit(endpoint.url)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.signers = signers(secrets)
        timeout = settings.WEBHOOK_TIMEOUT_SECONDS
        # No retries and no redirects here: a retry is the row's, and a redirect is a failure.
        self.pool = urllib3.connection_from_url(
            endpoint.url,
            maxsize=concurrency,
            block=True,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,
        )

    def post(self, pk: int, msg_id: str, body: str) -> Outcome:
        at = timezone.now()
        headers = signed_headers(signers=self.signers, msg_id=msg_id, body=body, at=at)
        started = time.perf_counter()
        code, error = None, ""
        try:
            response = self.pool.urlopen(
                "POST",
                self.path,
                body=body.encode("utf-8"),
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
            )
            try:
                answer = response.read(MAX_ANSWER_BYTES + 1)  # read, so the connection is reused
            except BaseException:
                response.close()
                raise
            if len(answer) > MAX_ANSWER_BYTES:
                response.close()  # too long to read through: this connection is not reused
            else:
                response.release_conn()
            code = response.status
            if not 200 <= code < 300:
                error = f"HTTP {code}: the receiver did not accept it"
        except Exception as exc:  # any transport failure is the row's failed attempt
            error = _reason(exc)
        duration = int((time.perf_counter() - started) * 1000)
        return Outcome(pk=pk, at=at, code=code, duration_ms=duration, error=error)

    def close(self) -> None:
        self.pool.close()


# ---------------------------------------------------------------------- recording


@dataclass
class _Health:
    """What this run last wrote on the endpoint's row, so a run of many batches writes it at most
    once a second (the row is every sender's; the UPDATE's own filters keep it right when
    another run wrote meanwhile)."""

    failing: bool
    success_written: float = float("-inf")  # time.monotonic() of this run's last write

    def success_is_news(self) -> bool:
        return self.failing or time.monotonic() - self.success_written >= 1.0


def _record(
    endpoint_id: int, done: list[tuple[WebhookDelivery, Outcome]], health: _Health | None = None
) -> dict[str, int]:
    counts = {"delivered": 0, "failed": 0, "given_up": 0, "gone": 0}
    now = timezone.now()
    fields = ["status", "attempts", "next_attempt_at", "first_attempt_at", "last_attempt_at",
              "last_response_code", "last_duration_ms", "last_error", "payload", "delivered_at"]  # fmt: skip
    with transaction.atomic():
        for row, outcome in done:
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or outcome.at
            row.last_attempt_at = outcome.at
            row.last_response_code = outcome.code
            row.last_duration_ms = outcome.duration_ms
            row.last_error = outcome.error
            if not outcome.error:
                row.status = Status.DELIVERED
                row.delivered_at = now
                row.payload = None  # the log keeps ids and states only
                row.next_attempt_at = now
                counts["delivered"] += 1
                continue
            wait_for = retry_wait(row.attempts)
            if outcome.code == GONE:
                row.status = Status.FAILED  # waits for the endpoint to be enabled again
                row.next_attempt_at = now
                counts["gone"] += 1
            elif wait_for is None:
                row.status = Status.GIVEN_UP
                row.next_attempt_at = now
                counts["given_up"] += 1
            else:
                row.status = Status.FAILED
                row.next_attempt_at = outcome.at + wait_for
                counts["failed"] += 1
            row.delivered_at = None
        _write([row for row, _ in done], fields)
        _endpoint_health(endpoint_id, counts, now, health)
        _propagations_delivered(done)
    return counts


def _propagations_delivered(done: list[tuple[WebhookDelivery, Outcome]]) -> None:
    """A delivered erasure, correction or stop closes its propagation task (propagation.py),
    in the transaction that records it; other events cost no query."""
    from apps.integration.outbound.propagation import PROPAGATION_EVENTS, deliveries_delivered

    ids = [row.pk for row, _ in done if row.status == Status.DELIVERED
           and row.event_type in PROPAGATION_EVENTS]  # fmt: skip
    if ids:
        deliveries_delivered(ids)


# The columns of a recorded attempt, and their types for PostgreSQL's VALUES list.
_COLUMNS = [("id", "bigint"), ("status", "varchar"), ("attempts", "integer"),
            ("next_attempt_at", "timestamptz"), ("first_attempt_at", "timestamptz"),
            ("last_attempt_at", "timestamptz"), ("last_response_code", "smallint"),
            ("last_duration_ms", "integer"), ("last_error", "varchar"),
            ("delivered_at", "timestamptz")]  # fmt: skip


def _write(rows: list[WebhookDelivery], fields: list[str]) -> None:
    """One UPDATE for the batch. On PostgreSQL an ``UPDATE ... FROM (VALUES ...)``: Django's
    bulk_update builds a CASE per field and row, which cost more CPU than the HTTP calls."""
    if connection.vendor != "postgresql":
        WebhookDelivery.objects.bulk_update(rows, fields)
        return
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(f"%s::{kind}" for _, kind in _COLUMNS) + ", %s::boolean)"
    names = ", ".join(quote(name) for name, _ in _COLUMNS)
    sets = ", ".join(f"{quote(name)} = v.{quote(name)}" for name, _ in _COLUMNS[1:])
    params: list = []
    for row in rows:
        params += [getattr(row, name) for name, _ in _COLUMNS]
        params.append(row.payload is None)
    table = quote(WebhookDelivery._meta.db_table)
    # Names come from the model, values are parameters.
    sql = (
        f"UPDATE {table} AS d SET {sets}, "  # noqa: S608
        "payload = CASE WHEN v.dropped THEN NULL ELSE d.payload END "
        f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({names}, dropped) "
        "WHERE d.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _endpoint_health(
    endpoint_id: int, counts: dict[str, int], now: datetime.datetime, health: _Health | None = None
) -> None:
    health = health or _Health(failing=True)
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if counts["delivered"] and health.success_is_news():
        # At most one write a second on the endpoint's row, which every sender shares.
        endpoints.filter(
            Q(failing_since__isnull=False)
            | Q(last_success_at__isnull=True)
            | Q(last_success_at__lt=now - datetime.timedelta(seconds=1))
        ).update(failing_since=None, last_success_at=now)
        health.failing, health.success_written = False, time.monotonic()
    failures = counts["failed"] + counts["given_up"] + counts["gone"]
    if failures and not counts["delivered"]:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        health.failing = True
    reason = ""
    if counts["gone"]:
        reason = "the receiver answered 410 Gone"
        disabled = endpoints.filter(enabled=True).update(
            enabled=False, disabled_reason=reason, disabled_at=now
        )
    elif failures:
        reason = f"every attempt failed for {settings.WEBHOOK_DISABLE_AFTER_HOURS:g} hours"
        day_ago = now - datetime.timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
        disabled = endpoints.filter(enabled=True, failing_since__lte=day_ago).update(
            enabled=False, disabled_reason=reason, disabled_at=now
        )
    else:
        disabled = 0
    if disabled:
        from apps.integration.outbound.tasks import webhook_endpoint_disabled_mail_task

        durable_enqueue(webhook_endpoint_disabled_mail_task, endpoint_id)
        logger.warning("webhook endpoint disabled endpoint_id=%s reason=%s", endpoint_id, reason)


# ---------------------------------------------------------------------- the run


@dataclass
class SendReport:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    more_due: bool = False  # the run ended on its time budget with rows still due
    next_retry_in: float | None = None  # seconds until the earliest retry it scheduled


def deliveries_send(*, endpoint_id: int, budget_seconds: float | None = None) -> SendReport:
    """Send the endpoint's due rows until none is left or the budget is spent."""
    report = SendReport()
    endpoint = sendable_endpoints().filter(pk=endpoint_id).first()
    if endpoint is None:
        return report
    secrets = secrets_in_force(endpoint_id, timezone.now())
    if not secrets:
        logger.warning("webhook endpoint has no secret endpoint_id=%s", endpoint_id)
        return report
    concurrency = max(1, settings.WEBHOOK_CONCURRENCY)
    deadline = time.monotonic() + (budget_seconds or settings.WEBHOOK_DRAIN_SECONDS)
    sender = _Sender(endpoint, secrets, concurrency)
    health = _Health(failing=endpoint.failing_since is not None)
    in_flight: dict = {}
    exhausted = False
    earliest_retry: datetime.datetime | None = None
    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook") as pool:
            while True:
                free = concurrency - len(in_flight)
                if not exhausted and (free * 4 >= concurrency or not in_flight):
                    if time.monotonic() >= deadline:
                        exhausted, report.more_due = True, True
                    else:
                        rows = _claim(endpoint_id, free)
                        exhausted = len(rows) < free
                        for row in rows:
                            if row.payload is None:  # nothing to send: a replay rebuilds it
                                _record_nothing(row)
                                continue
                            future = pool.submit(sender.post, row.pk, row.msg_id, row.payload)
                            in_flight[future] = row
                if not in_flight:
                    break
                wait(in_flight, timeout=1.0, return_when=FIRST_COMPLETED)
                time.sleep(0.003)  # let the answers just arriving join this record
                finished = [future for future in in_flight if future.done()]
                if not finished:
                    continue
                done = [(in_flight.pop(future), future.result()) for future in finished]
                counts = _record(endpoint_id, done, health)
                report.sent += len(done)
                report.delivered += counts["delivered"]
                report.failed += len(done) - counts["delivered"]
                for row, _outcome in done:
                    retry_at = row.next_attempt_at if row.status == Status.FAILED else None
                    if retry_at and retry_at > timezone.now():
                        earliest_retry = min(earliest_retry or retry_at, retry_at)
                if counts["gone"]:
                    exhausted = True  # the endpoint is disabled: take no more
                elif exhausted and not report.more_due:
                    exhausted = False  # look again: rows published meanwhile, retries due
    finally:
        sender.close()
    if earliest_retry is not None:
        report.next_retry_in = max(0.0, (earliest_retry - timezone.now()).total_seconds())
    logger.info(
        "webhooks sent endpoint_id=%s sent=%s delivered=%s failed=%s",
        endpoint_id,
        report.sent,
        report.delivered,
        report.failed,
    )
    return report


def _record_nothing(row: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=row.pk).update(
        status=Status.GIVEN_UP, last_error="no body to send (dropped): replay it"
    )


# ---------------------------------------------------------------------- the sweep


def due_endpoints() -> dict[int, int]:
    """Endpoint id -> number of due rows, for the enabled endpoints of active systems."""
    now = timezone.now()
    rows = (
        WebhookDelivery.objects.filter(
            status__in=DUE_STATUSES,
            next_attempt_at__lte=now,
            endpoint__enabled=True,
            endpoint__system__is_active=True,
        )
        .values("endpoint_id")
        .annotate(due=Count("pk"))
        .order_by()
    )
    return {row["endpoint_id"]: row["due"] for row in rows}


def webhook_sweep() -> int:
    """Enqueue sending for every endpoint with due rows (beat, every minute): one task per
    endpoint, more for a backlog (each takes rows the others do not). Returns tasks enqueued."""
    from apps.integration.outbound.tasks import send_enqueue

    enqueued = 0
    for endpoint_id, due in due_endpoints().items():
        tasks = min(4, 1 + due // 2000)
        for _ in range(tasks):
            send_enqueue(endpoint_id)
        enqueued += tasks
    if enqueued:
        logger.info("webhook sweep enqueued tasks=%s", enqueued)
    return enqueued
