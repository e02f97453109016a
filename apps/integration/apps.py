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

        # Outgoing webhooks: a delivery row per endpoint for each event the domain apps publish
        # (apps/core/events.py); their admin and tasks live in apps/integration/outbound/.
        from apps.integration.outbound import admin as outbound_admin  # noqa: F401
        from apps.integration.outbound import hub
        from apps.integration.outbound import tasks as outbound_tasks  # noqa: F401

        hub.subscribe()

        # Propagation: erasures, corrections and stops reach every system holding a copy, and
        # gate the request's completion (apps/core/completion.py).
        from apps.integration.outbound import propagation

        propagation.register()
