from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run`; the top of the layering, so it may use every app."""

    name = "apps.demo"
    verbose_name = "Demo data"
