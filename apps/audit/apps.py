from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Staff governance: the append-only access log, staff two-factor login, and the admin
    site that writes the log and hides personal fields from roles that must not see them."""

    name = "apps.audit"
    verbose_name = _("Audit")

    def ready(self):
        from apps.audit.services import access_log_record
        from apps.core.access import access_recorder_register

        # Exports outside the admin (apps.core.access) write the same log.
        access_recorder_register(access_log_record)
