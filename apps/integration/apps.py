from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "apps.integration"
    verbose_name = _("Integration")

    def ready(self):
        # The API key scheme for the OpenAPI schema.
        from apps.integration.api import schema  # noqa: F401
