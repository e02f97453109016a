from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyRequestsConfig(AppConfig):
    """Requests from people about their personal data (APPI Art. 32–39, GDPR Art. 15–21)."""

    name = "apps.privacy_requests"
    verbose_name = _("Privacy requests")
