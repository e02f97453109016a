from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.incidents import rules


class Incident(models.Model):
    """A leak, loss or damage of personal data (or the risk of one): the breach register.

    Whether it must be reported and by when is computed from the facts (``apps.incidents.rules``),
    never typed in. The description and data items describe *what kind* of data, never the data.
    """

    class DeadlineState(models.TextChoices):
        NOT_REQUIRED = "not_required", _("No report required")
        DONE = "done", _("Reported")
        OVERDUE = "overdue", _("Overdue")
        DUE_SOON = "due_soon", _("Due soon")
        OPEN = "open", _("Open")

    discovered_at = models.DateTimeField(
        _("discovered at"), help_text=_("When the shop learnt of it: the deadlines run from here.")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"), max_length=10000)
    data_items = models.TextField(
        _("data items involved"),
        max_length=2000,
        help_text=_("Kinds of data (e.g. name, address, order history), never the data itself."),
    )
    people_affected = models.PositiveIntegerField(_("people affected (or possibly affected)"))
    sensitive_data = models.BooleanField(
        _("sensitive personal information (要配慮個人情報)"), default=False
    )
    card_data = models.BooleanField(
        _("card or other data whose misuse could cause financial damage"), default=False
    )
    unauthorised_access = models.BooleanField(
        _("possibly done for an improper purpose (unauthorised access, theft, insider)"),
        default=False,
    )
    strongly_encrypted = models.BooleanField(
        _("protected by strong encryption (key not leaked)"), default=False
    )
    preliminary_reported_on = models.DateField(
        _("preliminary report sent on"), null=True, blank=True
    )
    final_reported_on = models.DateField(_("final report sent on"), null=True, blank=True)
    created_by_id = models.PositiveBigIntegerField(
        _("recorded by (staff user id)"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-discovered_at"]

    def __str__(self):
        return self.title

    @property
    def discovered_on(self) -> datetime.date:
        return timezone.localtime(self.discovered_at).date()

    @property
    def must_report(self) -> bool:
        return rules.must_report(
            sensitive_data=self.sensitive_data,
            card_data=self.card_data,
            unauthorised_access=self.unauthorised_access,
            people_affected=self.people_affected,
            strongly_encrypted=self.strongly_encrypted,
        )

    @property
    def preliminary_due(self) -> datetime.date:
        return rules.preliminary_due(self.discovered_on)

    @property
    def final_due(self) -> datetime.date:
        return rules.final_due(self.discovered_on, unauthorised_access=self.unauthorised_access)

    def deadline_state(self, *, today: datetime.date | None = None, soon_days: int = 2) -> str:
        """The most urgent state of the two reports."""
        if not self.must_report:
            return self.DeadlineState.NOT_REQUIRED
        today = today or timezone.localdate()
        pending = [
            due
            for due, done in (
                (self.preliminary_due, self.preliminary_reported_on),
                (self.final_due, self.final_reported_on),
            )
            if done is None
        ]
        if not pending:
            return self.DeadlineState.DONE
        next_due = min(pending)
        if next_due < today:
            return self.DeadlineState.OVERDUE
        if (next_due - today).days <= soon_days:
            return self.DeadlineState.DUE_SOON
        return self.DeadlineState.OPEN


class IncidentNotice(models.Model):
    """A notice about an incident sent to the people affected (APPI Art. 26(2)), or the public
    announcement made where individual notice is impossible. Counts, never addresses."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        POST = "post", _("Postal mail")
        PHONE = "phone", _("Phone")
        MY_PAGE = "mypage", _("My Page message")
        PUBLIC_ANNOUNCEMENT = "public", _("Public announcement (individual notice impossible)")

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.PROTECT, related_name="notices"
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipients = models.PositiveIntegerField(_("number of people notified"))
    summary = models.TextField(_("what the notice said"), max_length=5000)
    sent_by_id = models.PositiveBigIntegerField(_("sent by (staff user id)"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice to affected people")
        verbose_name_plural = _("notices to affected people")
        ordering = ["sent_at"]

    def __str__(self):
        return _("Notice sent %(date)s") % {"date": f"{timezone.localtime(self.sent_at):%Y-%m-%d}"}
