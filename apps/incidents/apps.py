from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """The breach register (APPI Art. 26): incidents, their reporting deadlines, and the
    notices sent to the people affected."""

    name = "apps.incidents"
    verbose_name = _("Incidents")
