from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.append_only import AppendOnlyError, AppendOnlyModel

__all__ = ["AppendOnlyError", "Job", "StaffAction"]


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
        return _("%(task)s (%(state)s)") % {
            "task": self.task.rsplit(".", 1)[-1],
            "state": self.get_state_display(),
        }


class StaffAction(AppendOnlyModel):
    """A staff decision that changes what happens to people: a customer restricted or let order
    again, a campaign sent, scheduled, cancelled or resumed. Written by the service that makes
    the change, in its transaction, so the change and its record stand or fall together.

    It lives in core, not in the audit app, because the services that write it (customers,
    marketing) sit below audit. Ids only: never a name, an e-mail, a reason typed by staff or a
    campaign's subject. Rows are never changed or deleted: the model refuses it, the admin is
    read-only, and on PostgreSQL a trigger rejects UPDATE and DELETE (migration staff_action)."""

    class Action(models.TextChoices):
        CUSTOMER_RESTRICT = "customer_restrict", _("customer restricted")
        CUSTOMER_LIFT_RESTRICTION = "customer_lift_restriction", _("customer restriction lifted")
        CAMPAIGN_SEND = "campaign_send", _("campaign sent")
        CAMPAIGN_SCHEDULE = "campaign_schedule", _("campaign scheduled")
        CAMPAIGN_CANCEL = "campaign_cancel", _("campaign cancelled")
        CAMPAIGN_RESUME = "campaign_resume", _("campaign resumed")
        API_KEY_ISSUE = "api_key_issue", _("API key issued")
        API_KEY_REVOKE = "api_key_revoke", _("API keys revoked")

    # A plain integer, not a foreign key: the record outlives the staff account. Empty when no
    # one acted (beat sending a scheduled campaign).
    staff_user_id = models.PositiveBigIntegerField(
        _("staff user id"), null=True, blank=True, db_index=True
    )
    action = models.CharField(_("action"), max_length=40, choices=Action)
    model_label = models.CharField(_("model"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("staff action")
        verbose_name_plural = _("staff actions")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model_label", "object_id"], name="core_staffaction_obj")]
        # Nobody gets add/change/delete: rows are written by services only.
        default_permissions = ("view",)

    def __str__(self):
        return _("%(at)s %(action)s") % {
            "at": f"{timezone.localtime(self.at):%Y-%m-%d %H:%M}",
            "action": self.get_action_display(),
        }
