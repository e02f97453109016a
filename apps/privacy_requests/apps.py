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

        # The door apps/core/completion.py opens for apps whose work gates a request's
        # completion (the propagation of an erasure to the shop's other systems).
        from apps.core.completion import completer_register
        from apps.privacy_requests.services.carry_out import privacy_request_complete_when_open

        completer_register(privacy_request_complete_when_open)
