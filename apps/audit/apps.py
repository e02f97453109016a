from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Staff governance: the append-only access log, staff two-factor login, and the admin
    site that writes the log and hides personal fields from roles that must not see them."""

    name = "apps.audit"
    verbose_name = _("Audit")
