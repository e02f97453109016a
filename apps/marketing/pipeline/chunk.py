"""Chunk sending: one SMTP connection, batches claimed ahead on a second database connection."""

from __future__ import annotations

import email.utils
import logging
import os
import threading

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.marketing.mail import PreparedCampaign, Recipient, transport_address
from apps.marketing.models import Campaign, Delivery
from apps.marketing.pipeline.records import (
    FAILED_BAD_ADDRESS,
    FAILED_BOUNCED,
    FAILED_NEEDS_SMTPUTF8,
    FAILED_NOT_BUILT,
    FAILED_REFUSED,
    SKIPPED_CHANGED,
    SKIPPED_INELIGIBLE,
    _ChunkQueries,
    _defer_claimed,
    _defer_range,
    _mark,
    _record,
    _Results,
    _skip_cancelled,
)
from apps.marketing.pipeline.sweep import Finalize, campaign_finalize
from apps.marketing.selectors import address_hash
from apps.marketing.transport import MailServerUnavailable, Outcome, RawSender

logger = logging.getLogger(__package__)


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
                reported = sender.submit(
                    raw, prepared.from_address, to, key=(delivery_id, attempts, address),
                    utf8=needs_utf8,
                )  # fmt: skip
            except MailServerUnavailable as exc:
                _note(results, exc.reported)
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
            _note(results, reported)
        # With PIPELINING the last message's content is still to go: every claimed row has its
        # outcome before the batch is recorded.
        try:
            _note(results, sender.flush())
        except MailServerUnavailable as exc:
            _note(results, exc.reported)
            raise
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


def _note(results: _Results, reported) -> None:
    """What the mail server answered, by message (keyed by delivery id, attempts, address)."""
    for (delivery_id, attempts, address), outcome in reported:
        if outcome is Outcome.SENT:
            results.sent.append(delivery_id)
        elif outcome is Outcome.DEFERRED:
            results.deferred[attempts].append(delivery_id)
        elif outcome is Outcome.BOUNCED:
            results.failed[FAILED_BOUNCED].append(delivery_id)
            results.bounced_addresses.append(address)
        else:
            results.failed[FAILED_REFUSED].append(delivery_id)


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
    here, at once, in the same order.

    In a Celery worker that thread, with its connection and the claim planned on it, is kept
    for the worker's next chunk: opening a connection and planning again for every chunk cost
    more than sending a batch. Called directly or eagerly (tests, `make run`), the thread and
    its connection end with the chunk, as they began with it."""

    def __init__(self, queries: _ChunkQueries):
        self.queries = queries

    def __enter__(self):
        import concurrent.futures

        self.inline = connection.in_atomic_block or connection.vendor != "postgresql"
        self.pool = None
        self.kept = False
        if not self.inline:
            if _in_a_worker():
                self.pool, self.kept = _kept_claim_thread(), True
            else:
                self.pool = concurrent.futures.ThreadPoolExecutor(1)
        return self

    def __exit__(self, *exc):
        if self.pool is not None and not self.kept:
            # That thread's own connection (`connection` is looked up in the thread).
            self.pool.submit(lambda: connection.close()).result()
            self.pool.shutdown()

    def claim(self, lo: int, hi: int, limit: int, *, sent: list[int] = ()):
        """queries.claim, started now; `wait` gives its rows."""
        import concurrent.futures

        if self.pool is not None:
            # The task's query instrumentation (execute wrappers) watches that connection too.
            future = self.pool.submit(
                _watched, list(connection.execute_wrappers), self.queries.claim, lo, hi, limit,
                sent=sent,
            )  # fmt: skip
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


def _watched(wrappers: list, claim, *args, **kwargs):
    """Run in the claim thread with the calling task's execute wrappers on its connection."""
    connection.execute_wrappers[:] = wrappers
    try:
        return claim(*args, **kwargs)
    finally:
        connection.execute_wrappers.clear()


def _in_a_worker() -> bool:
    """A chunk run by a Celery worker (not called directly, not eagerly)."""
    from celery import current_task

    request = current_task.request if current_task else None
    return bool(request) and not request.called_directly and not request.is_eager


_kept: dict[int, object] = {}  # by process id: a forked pool child starts its own
_kept_lock = threading.Lock()


def _kept_claim_thread():
    import concurrent.futures

    with _kept_lock:
        pid = os.getpid()
        if pid not in _kept:
            _kept.clear()
            _kept[pid] = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="claim")
        return _kept[pid]
