from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.append_only import AppendOnlyError, AppendOnlyModel

__all__ = ["AccessLog", "AppendOnlyError", "model_name"]


def model_name(label: str) -> str:
    """The translated name of a model given its label ("customers.Customer" -> 顧客): the log
    stores the label, people read the name."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


class AccessLog(AppendOnlyModel):
    """One staff access to one object holding personal data, through the admin.

    Ids only: never a name, an e-mail or a display string, so the log itself holds no personal
    data about customers. Rows are never changed or deleted: the model refuses it, the admin is
    read-only, and on PostgreSQL a trigger rejects UPDATE and DELETE (migration 0002).
    """

    class Action(models.TextChoices):
        VIEW = "view", _("View")
        ADD = "add", _("Add")
        CHANGE = "change", _("Change")
        DELETE = "delete", _("Delete")
        EXPORT = "export", _("Export")

    # A plain integer, not a foreign key: the record outlives the staff account.
    staff_user_id = models.PositiveBigIntegerField(_("staff user id"), db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    model_label = models.CharField(_("model"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # The staff member's address, kept as a security record about staff (not customers).
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model_label", "object_id"])]
        # Nobody gets add/change/delete: rows are written by services only.
        default_permissions = ("view",)
        permissions = [
            ("view_personal_data", _("Can see personal fields of customers in the admin")),
            ("export_personal_data", _("Can export personal data from the admin as CSV")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["view", "add", "change", "delete", "export"]),
                name="accesslog_action_valid",
            ),
        ]

    def __str__(self):
        return _("%(at)s %(action)s: %(model)s") % {
            "at": f"{timezone.localtime(self.at):%Y-%m-%d %H:%M}",
            "action": self.get_action_display(),
            "model": model_name(self.model_label),
        }
