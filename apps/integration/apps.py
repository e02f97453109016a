from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "apps.integration"
    verbose_name = _("Integration")

    def ready(self):
        # shopify_tasks: workers autodiscover tasks.py only, so Shopify's webhook task is
        # registered here; schema: the API key scheme for the OpenAPI schema.
        from apps.integration import shopify_tasks  # noqa: F401
        from apps.integration.api import schema  # noqa: F401
