from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyRequestsConfig(AppConfig):
    """Requests from people about their personal data (APPI Art. 32–39, GDPR Art. 15–21)."""

    name = "apps.privacy_requests"
    verbose_name = _("Privacy requests")

    def ready(self):
        # The door apps/core/intake.py opens for apps that may not import us (the storefront
        # API, Shopify's webhooks).
        from apps.core.intake import register
        from apps.privacy_requests import intake

        register(file=intake.file, state=intake.state)
