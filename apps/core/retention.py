"""The retention registry.

Each app that keeps data past its use registers, from its own ``retention.py``, the rules that
end it: ``apply(today=..., dry_run=...)`` finds what is past its limit on that day, removes or
anonymises it (unless ``dry_run``) and returns how many things it found. Rules report counts,
never values. ``apps.core.services.retention_run`` (daily, from Celery beat, or
``manage.py retention_run``) runs them all.

A rule may also say, in the public's words, how long its data is kept (``notice``: a function
returning a translated sentence, read when the page is drawn so it follows the settings):
/privacy/ lists these (GDPR Art. 13(2)(a)), so the published periods are the ones applied.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from apps.core.dates import add_years

Apply = Callable[..., int]
Notice = Callable[[], str]


@dataclass(frozen=True)
class RetentionRule:
    name: str
    description: str
    apply: Apply
    order: int = 100
    notice: Notice | None = None


_registry: dict[str, RetentionRule] = {}


def register(
    name: str, *, description: str, apply: Apply, order: int = 100, notice: Notice | None = None
) -> None:
    _registry[name] = RetentionRule(
        name=name, description=description, apply=apply, order=order, notice=notice
    )


def rules() -> list[RetentionRule]:
    return sorted(_registry.values(), key=lambda r: (r.order, r.name))


def retention_notices() -> list[str]:
    """The published keeping periods, one sentence per rule that has one, in the rules' order."""
    return [rule.notice() for rule in rules() if rule.notice is not None]


def years_before(day: datetime.date, years: int) -> datetime.date:
    return add_years(day, -years)


def purge_finished_jobs(*, today: datetime.date, dry_run: bool = False) -> int:
    """Durable-work rows (ids only) that are done go JOB_DONE_KEEP_DAYS after they were done;
    given-up rows stay for staff to retry or look into."""
    from django.conf import settings

    from apps.core.dates import start_of_day
    from apps.core.models import Job

    before = start_of_day(today - datetime.timedelta(days=settings.JOB_DONE_KEEP_DAYS))
    done = Job.objects.filter(state=Job.State.DONE, done_at__lt=before)
    if dry_run:
        return done.count()
    deleted, _ = done.delete()
    return deleted


register(
    "finished_jobs",
    description="Delete durable-work rows JOB_DONE_KEEP_DAYS after they were done.",
    apply=purge_finished_jobs,
    order=300,
)
