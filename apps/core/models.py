from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One piece of background work, written in the same transaction as the change that needs
    it (apps/core/durable.py). Celery is only the fast path: the row is the record, and the
    sweep enqueues it again until a run marks it done or it is given up.

    ``args`` holds ids only and ``last_error`` a fixed reason (exception class and a sentence of
    ours), so nothing personal is stored here, shown to staff or sent through the broker."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("given up")

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("object ids"), default=list)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Pending: when the sweep may enqueue it (again). Running: the end of the lease, after which
    # the run counts as lost (a killed worker) and the job is due again.
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background work")
        indexes = [
            # The sweep's query: the due jobs of the states it looks at.
            models.Index(
                fields=["next_attempt_at"],
                name="core_job_due",
                condition=models.Q(state__in=["pending", "running"]),
            ),
            models.Index(fields=["task", "state"], name="core_job_task_state"),
        ]

    def __str__(self):
        return f"{self.task} {self.args} ({self.state})"
