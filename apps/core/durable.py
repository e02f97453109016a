"""Durable background work: a ``core.Job`` row per piece of work, Celery as the fast path.

    @durable_task(time_limit=60)
    def notice_send_task(notice_id: int) -> None: ...

    with transaction.atomic():
        ...the change...
        durable_enqueue(notice_send_task, notice.pk)

``durable_enqueue`` writes the row in the caller's transaction (so the work exists exactly when
the change does) and, once it commits, hands the task to the broker. A broker that cannot be
reached (Redis down) is logged with ids only and the row simply stays due: the request that
made the change still succeeds.

A durable task claims its row before it runs: ``running`` with a lease (its time limit and a
margin), so a second copy of the message does nothing while the first runs, and a run whose
worker was killed is due again once the lease ends. Success marks the row ``done``; an
exception is recorded as a fixed reason (the exception's class and a sentence of ours, never the
exception's text: a mail server's answer can hold the address), and the row waits
DURABLE_BACKOFF_SECONDS · 2^(attempts-1) (at most DURABLE_BACKOFF_MAX_SECONDS) before the next
try. After DURABLE_MAX_ATTEMPTS, or at once for a permanent refusal, it is ``failed`` (given up)
and staff see it, with its age and reason, in the admin's "Background work", where "try again
now" starts a fresh series.

The beat sweep (``job_sweep``, every minute) enqueues every due row: never enqueued, enqueue
failed, message lost, lease over. It takes rows with ``FOR UPDATE SKIP LOCKED`` and pushes
their next attempt forward before it enqueues, so several beat or worker machines never send
the same row twice in one round. A duplicate message that does slip through finds the row done
or leased and does nothing; the work itself is idempotent besides (each service re-reads and
re-checks its rows).

Why not a library: the outbox packages for Django and Celery (django-celery-outbox and its
kind) guarantee that a message is *published* once the transaction commits, then forget it; the
guarantee needed here is that the work is *done* (a lost or killed run is redone, a failing one
is shown to staff with a retry), which needs the row to live until the task reports back.
"""

from __future__ import annotations

import datetime
import functools
import logging
import smtplib
from collections.abc import Callable
from importlib import import_module

from celery import current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.mail import MailRefused
from apps.core.models import Job

logger = logging.getLogger(__name__)

State = Job.State

# What staff read as the reason: a fixed sentence per kind of failure, never str(exc).
_REASONS: list[tuple[type[BaseException], str]] = [
    (MailRefused, "the mail server refused the message for good"),
    (smtplib.SMTPException, "the mail server answered with an error"),
    (SoftTimeLimitExceeded, "the task ran past its time limit"),
    (TimeoutError, "a server did not answer in time"),
    (ConnectionError, "a server refused or dropped the connection"),
    (OSError, "a server or the network could not be reached"),
    (DatabaseError, "a database error"),
]
# Failures no retry can mend: given up at once.
PERMANENT = (MailRefused,)
LOST = "the worker running it stopped (lease over)"


def failure_reason(exc: BaseException) -> str:
    for kind, sentence in _REASONS:
        if isinstance(exc, kind):
            return f"{type(exc).__name__}: {sentence}"[:200]
    return f"{type(exc).__name__}: unexpected error (see the worker log)"[:200]


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before the next try after `attempts` failed ones."""
    seconds = settings.DURABLE_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(seconds, settings.DURABLE_BACKOFF_MAX_SECONDS))


def _grace() -> datetime.timedelta:
    # How long an enqueued row waits for its task before the sweep sends it again.
    return datetime.timedelta(seconds=settings.DURABLE_ENQUEUE_GRACE_SECONDS)


def _lease(task) -> datetime.timedelta:
    limit = task.time_limit or current_app.conf.task_time_limit or 600
    return datetime.timedelta(seconds=limit + 60)


# ---------------------------------------------------------------------- enqueueing


def _send(job_id: int, task_name: str, args: list) -> None:
    """Hand one job to the broker; any failure leaves the row due for the sweep."""
    try:
        if task_name not in current_app.tasks:
            # A process that has not imported the task's module yet (a shell, the admin).
            import_module(task_name.rpartition(".")[0])
        task = current_app.tasks[task_name]
        app = task.app
        if app.conf.task_always_eager:  # `make run` and unit tests: runs here and now
            task.apply_async(args=args, kwargs={"job_id": job_id})
            return
        # With Redis down, fail at the first refused connection (the row is the retry) instead
        # of keeping the member's request waiting through kombu's reconnection attempts.
        with app.pool.acquire(block=True, timeout=5) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            task.apply_async(
                args=args, kwargs={"job_id": job_id}, connection=connection, retry=False
            )
    except Exception as exc:  # any broker or transport error: the row stays due
        logger.warning(
            "durable job not enqueued, the sweep will retry job_id=%s task=%s error=%s",
            job_id,
            task_name,
            type(exc).__name__,
        )


def durable_enqueue(task, *ids: int, delay: datetime.timedelta | None = None) -> Job:
    """Record `task(*ids)` as work to do, in the caller's transaction; enqueue it on commit
    (after `delay`, if given: then only the sweep starts it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("durable_enqueue() must run inside the transaction of the change")
    if not all(isinstance(value, int) for value in ids):
        raise TypeError("durable jobs carry ids (ints) only")
    now = timezone.now()
    job = Job.objects.create(
        task=task.name, args=list(ids), next_attempt_at=now + (_grace() if delay is None else delay)
    )
    if delay is None:
        transaction.on_commit(functools.partial(_send, job.pk, task.name, list(ids)))
    return job


# ---------------------------------------------------------------------- running


def _claim(job_id: int, lease: datetime.timedelta) -> bool:
    """Mark the job running for one lease; False when it is done, given up, or leased by a
    run that is still going (a duplicate message)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state in (State.DONE, State.FAILED):
            return False
        now = timezone.now()
        if job.state == State.RUNNING:
            if job.next_attempt_at > now:
                return False
            job.attempts += 1  # the run that held the lease was lost
            job.last_error = LOST
        job.state = State.RUNNING
        job.next_attempt_at = now + lease
        job.save(update_fields=["state", "next_attempt_at", "attempts", "last_error", "updated_at"])
    return True


def _finish(job_id: int) -> None:
    Job.objects.filter(pk=job_id).update(
        state=State.DONE, done_at=timezone.now(), last_error="", updated_at=timezone.now()
    )


def _fail(job_id: int, exc: BaseException) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return
        job.attempts += 1
        job.last_error = failure_reason(exc)
        now = timezone.now()
        if isinstance(exc, PERMANENT) or job.attempts >= settings.DURABLE_MAX_ATTEMPTS:
            job.state = State.FAILED
            job.next_attempt_at = now
        else:
            job.state = State.PENDING
            job.next_attempt_at = now + backoff(job.attempts)
        job.save(update_fields=["state", "next_attempt_at", "attempts", "last_error", "updated_at"])
    logger.warning(
        "durable job failed job_id=%s task=%s attempts=%s state=%s error=%s",
        job_id,
        job.task,
        job.attempts,
        job.state,
        type(exc).__name__,
        # A traceback only for our own bugs: a mail or network error's text can hold an address.
        exc_info=not isinstance(exc, OSError | MailRefused | smtplib.SMTPException),
    )


def durable_task(**options) -> Callable:
    """A Celery task over ids whose runs are recorded on their ``Job`` (see the module
    docstring). Called without ``job_id`` (an old message, a shell) it just runs the work.
    Retries belong to the job, so no Celery retry options here."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*ids, job_id: int | None = None):
            if job_id is None:
                return func(*ids)
            if not _claim(job_id, _lease(task)):
                logger.info("durable job skipped (done or running) job_id=%s", job_id)
                return None
            try:
                func(*ids)
            except Exception as exc:
                _fail(job_id, exc)
                return None
            _finish(job_id)
            return None

        del run.__wrapped__  # Celery checks calls against run's own signature (with job_id)
        task = shared_task(ignore_result=True, **options)(run)
        return task

    return decorator


# ---------------------------------------------------------------------- the sweep and staff


def job_sweep(*, batch_size: int | None = None) -> int:
    """Enqueue every due job (beat, every minute); returns how many. Safe beside other sweeps:
    rows another sweep holds are skipped, and each row's next attempt moves forward before its
    task is sent."""
    batch_size = batch_size or settings.DURABLE_SWEEP_BATCH
    sent = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            due = list(
                Job.objects.select_for_update(skip_locked=True)
                .filter(state__in=[State.PENDING, State.RUNNING], next_attempt_at__lte=now)
                .order_by("next_attempt_at", "pk")[:batch_size]
            )
            for job in due:
                if job.state == State.RUNNING:  # its lease ran out: the worker was lost
                    job.attempts += 1
                    job.last_error = LOST
                    if job.attempts >= settings.DURABLE_MAX_ATTEMPTS:
                        job.state = State.FAILED
                        continue
                    job.state = State.PENDING
                job.next_attempt_at = now + _grace()
                transaction.on_commit(functools.partial(_send, job.pk, job.task, job.args))
                sent += 1
            Job.objects.bulk_update(due, ["state", "attempts", "last_error", "next_attempt_at"])
        if len(due) < batch_size:
            break
    if sent:
        logger.info("durable sweep enqueued jobs=%s", sent)
    return sent


def job_is_running(job: Job) -> bool:
    return job.state == State.RUNNING and job.next_attempt_at > timezone.now()


@transaction.atomic
def job_retry(*, job: Job, by=None) -> Job:
    """Staff's "try again now": enqueue the job at once; a given-up job starts a fresh series of
    attempts. Refused for work that is done or running now."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.state == State.DONE:
        raise ValidationError(_("This work is already done."))
    if job_is_running(job):
        raise ValidationError(_("This work is running right now."))
    if job.state == State.FAILED:
        job.attempts = 0
    job.state = State.PENDING
    job.next_attempt_at = timezone.now() + _grace()
    job.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    transaction.on_commit(functools.partial(_send, job.pk, job.task, job.args))
    logger.info("durable job retried job_id=%s by_user_id=%s", job.pk, by and by.pk)
    return job


def job_latest(task, *ids: int) -> Job | None:
    """The newest job of `task` for these ids."""
    return Job.objects.filter(task=task.name, args=list(ids)).order_by("-pk").first()
