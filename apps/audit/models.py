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
    """One staff access through the admin to objects holding personal data: one row per page
    view or write, holding every id the page showed (a change list of 100 customers is one row,
    not 100), and the visit (staff session) it belongs to.

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
    # The object when the row is about exactly one (a change form); blank for a list.
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Every id the row is about, comma-separated and comma-wrapped (",3,17,") so that "who
    # looked at 17" is one ``contains`` on any database.
    object_ids = models.TextField(_("object ids"), blank=True, default="")
    # A keyed digest of the staff session: the rows of one visit share it; the session key
    # itself (a credential) is never stored.
    visit = models.CharField(_("visit"), max_length=16, blank=True, default="", db_index=True)
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

    @property
    def ids(self) -> list[str]:
        if self.object_ids:
            return [i for i in self.object_ids.split(",") if i]
        return [self.object_id] if self.object_id else []

    @staticmethod
    def about(object_id) -> models.Q:
        """The rows about this object id: rows of one object and lists that showed it."""
        return models.Q(object_ids__contains=f",{object_id},") | models.Q(object_id=str(object_id))

    def __str__(self):
        return _("%(at)s %(action)s: %(model)s") % {
            "at": f"{timezone.localtime(self.at):%Y-%m-%d %H:%M}",
            "action": self.get_action_display(),
            "model": model_name(self.model_label),
        }
