from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    """A test-only app that holds personal data (test settings install it): what a shop's
    loyalty-card add-on would be. Its privacy.py is its only word to the registry."""

    name = "tests.registry_app"
    label = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"
