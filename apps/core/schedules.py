"""Every periodic task of the project, declared in one place.

Celery beat runs django-celery-beat's DatabaseScheduler (``CELERY_BEAT_SCHEDULER``): its
schedule is rows in the database, which staff see in the admin. ``SCHEDULES`` is where those
rows come from. After every ``migrate`` (as Django creates permissions) and on
``manage.py setup_schedules``, ``schedules_setup`` creates each declared schedule that is
missing, brings the task, timing and description of the others in line with this list, and
deletes the ones listed in ``OBSOLETE``. Whether a schedule is enabled is the staff's once it
exists: one paused in the admin stays paused across deploys.

Tasks are named by their dotted path, so core imports none of the apps whose tasks it lists.
The migrations that first created some of these rows stay as history; this list supersedes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, transaction

# Beat's crontabs are read in the shop's time zone, whatever the server's.
CRONTAB_TIMEZONE = "Asia/Tokyo"


@dataclass(frozen=True)
class Schedule:
    name: str  # the PeriodicTask's unique name, as staff see it
    task: str
    description: str
    every: tuple[int, str] | None = None  # (number, IntervalSchedule period), e.g. (1, "minutes")
    at: tuple[str, str] | None = None  # (minute, hour) every day, in CRONTAB_TIMEZONE


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        name="retention: daily run",
        task="apps.core.tasks.retention_run_task",
        description="Every rule of the retention registry (apps/*/retention.py).",
        at=("30", "3"),
    ),
    Schedule(
        name="core: sweep due work",
        task="apps.core.tasks.job_sweep_task",
        description="Enqueue durable work that is due and not done (apps/core/durable.py).",
        every=(1, "minutes"),
    ),
    Schedule(
        name="marketing: sweep sending campaigns",
        task="apps.marketing.tasks.campaign_sweep_task",
        description="Finish campaigns whose tasks were lost, never enqueued or deferred.",
        every=(1, "minutes"),
    ),
    Schedule(
        # The name beat gave it when it came from settings.CELERY_BEAT_SCHEDULE, so existing
        # installations keep one row.
        name="dispatch-scheduled-campaigns",
        task="apps.marketing.tasks.campaign_dispatch_due_task",
        description="Send the scheduled campaigns whose time has come.",
        every=(60, "seconds"),
    ),
    Schedule(
        name="integration: sweep due webhook deliveries",
        task="apps.integration.outbound.tasks.webhook_sweep_task",
        description="Send webhook deliveries never enqueued, due for a retry, or lost with a "
        "worker (apps/integration/outbound/delivery.py).",
        every=(1, "minutes"),
    ),
)

# Schedules that existed once and must not run any more.
OBSOLETE: tuple[str, ...] = (
    # Now the retention rule "privacy_request_files" (apps/privacy_requests/retention.py).
    "privacy_requests: purge documents and expired packages",
)


def _timing(schedule: Schedule, using: str) -> dict:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if (schedule.every is None) == (schedule.at is None):
        raise ValueError(f"{schedule.name}: give exactly one of every= and at=")
    if schedule.every is not None:
        every, period = schedule.every
        interval, _ = IntervalSchedule.objects.using(using).get_or_create(
            every=every, period=period
        )
        return {"interval": interval, "crontab": None}
    minute, hour = schedule.at
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute=minute,
        hour=hour,
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=CRONTAB_TIMEZONE,
    )
    return {"interval": None, "crontab": crontab}


def schedules_setup(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Make beat's schedule what ``SCHEDULES`` declares; safe to run any number of times.
    Returns how many schedules were created, updated and removed."""
    from django_celery_beat.models import PeriodicTask

    counts = {"created": 0, "updated": 0, "removed": 0}
    with transaction.atomic(using=using):
        for schedule in SCHEDULES:
            wanted = {
                "task": schedule.task,
                "description": schedule.description,
                **_timing(schedule, using),
            }
            existing = PeriodicTask.objects.using(using).filter(name=schedule.name).first()
            if existing is None:
                PeriodicTask(name=schedule.name, enabled=True, **wanted).save(using=using)
                counts["created"] += 1
                continue
            changed = [
                field for field, value in wanted.items() if getattr(existing, field) != value
            ]
            if changed:
                for field in changed:
                    setattr(existing, field, wanted[field])
                existing.save(using=using, update_fields=changed)
                counts["updated"] += 1
        # One by one, so beat hears of each (PeriodicTask.delete marks the schedule changed).
        for task in PeriodicTask.objects.using(using).filter(name__in=OBSOLETE):
            task.delete()
            counts["removed"] += 1
    return counts


def schedules_after_migrate(sender, *, using=DEFAULT_DB_ALIAS, apps=None, **kwargs) -> None:
    """post_migrate (connected in CoreConfig.ready): every migrate leaves the declared schedule."""
    try:
        if apps is not None:
            apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:
        return  # migrated to a state without beat's tables
    schedules_setup(using=using)
