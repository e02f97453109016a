"""Thin tasks over ids (the work is in delivery.py and services.py).

``webhook_send_task(endpoint_id)`` is enqueued once per endpoint when a transaction that wrote
its deliveries commits, by the sweep, and by itself (a run that ended on its time budget, or a
retry due within a minute). Running it twice is harmless: rows are taken with SKIP LOCKED and
leased. The rows are the record, so an enqueue that fails (Redis down) is only logged: the sweep
sends them later."""

from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db import transaction

from apps.core.durable import durable_task

logger = logging.getLogger(__name__)

# A retry due sooner than this is enqueued with a countdown; later ones wait for the sweep
# (a broker holding messages for hours is what the rows are there to avoid).
FAST_RETRY_MAX_SECONDS = 60.0


def send_enqueue(endpoint_id: int, *, countdown: float | None = None) -> bool:
    """Hand one sending run to the broker; False (logged with the id only) when it cannot."""
    task = webhook_send_task
    app = task.app
    try:
        if app.conf.task_always_eager:
            if countdown:
                return False  # eager (`make run`, unit tests): later retries are the sweep's
            task.apply(args=[endpoint_id])
            return True
        with app.pool.acquire(block=True, timeout=5) as connection:
            # With Redis down, fail at the first refused connection instead of keeping the
            # member's request waiting through kombu's reconnection attempts.
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            task.apply_async(
                args=[endpoint_id], countdown=countdown, connection=connection, retry=False
            )
        return True
    except Exception as exc:  # any broker error: the rows stay due for the sweep
        logger.warning(
            "webhook send not enqueued, the sweep will retry endpoint_id=%s error=%s",
            endpoint_id,
            type(exc).__name__,
        )
        return False


class _SendOnCommit:
    """The on-commit callback of one endpoint's sending (recognised by send_on_commit)."""

    def __init__(self, endpoint_id: int):
        self.endpoint_id = endpoint_id
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        send_enqueue(self.endpoint_id)


def send_on_commit(endpoint_id: int) -> None:
    """Enqueue the endpoint's sending once the current transaction commits: once per endpoint
    per transaction, however many events it published (a bulk change, an import)."""
    connection = transaction.get_connection()
    # Django keeps the callbacks of the open transaction in `run_on_commit`, each with the
    # savepoints open when it was registered (and drops them if one is rolled back). One of
    # this endpoint registered at the same level (a loop of events in one atomic block) will
    # send this row too; across savepoints each keeps its own, which is only more tasks.
    level = set(connection.savepoint_ids)
    for sids, func, _robust in connection.run_on_commit:
        if (
            isinstance(func, _SendOnCommit)
            and func.endpoint_id == endpoint_id
            and not func.ran
            and sids == level
        ):
            return
    transaction.on_commit(_SendOnCommit(endpoint_id))


@shared_task(ignore_result=True, time_limit=15 * 60, soft_time_limit=14 * 60)
def webhook_send_task(endpoint_id: int) -> None:
    from apps.integration.outbound.delivery import deliveries_send

    report = deliveries_send(endpoint_id=endpoint_id)
    if current_app.conf.task_always_eager:
        return
    if report.more_due:
        send_enqueue(endpoint_id)
    elif report.next_retry_in is not None and report.next_retry_in <= FAST_RETRY_MAX_SECONDS:
        send_enqueue(endpoint_id, countdown=report.next_retry_in)


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=110)
def webhook_sweep_task() -> None:
    """Every minute (Celery beat, see apps/core/schedules.py)."""
    from apps.integration.outbound.delivery import webhook_sweep

    webhook_sweep()


@durable_task(time_limit=120, soft_time_limit=110)
def webhook_endpoint_disabled_mail_task(endpoint_id: int) -> None:
    from apps.integration.outbound.services import webhook_endpoint_disabled_notify

    webhook_endpoint_disabled_notify(endpoint_id=endpoint_id)


@durable_task(time_limit=120, soft_time_limit=110)
def propagation_complete_task(privacy_request_id: int) -> None:
    """The request's last propagation task closed: complete it through the port."""
    from apps.core.completion import request_complete

    request_complete(request_id=privacy_request_id)
