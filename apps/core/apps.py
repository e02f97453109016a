from importlib import import_module

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.urls import register_converter
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self):
        from apps.core import checks  # noqa: F401  (registers the settings checks)
        from apps.core.converters import TextConverter
        from apps.core.schedules import schedules_after_migrate

        register_converter(TextConverter, "text")
        # Beat's schedule is declared in apps/core/schedules.py; every migrate applies it.
        post_migrate.connect(schedules_after_migrate, sender=self)
        # Every app registers its personal-data exporter and eraser from its own privacy.py,
        # and its retention rules from its own retention.py; its staff dashboard panels from
        # its own dashboard.py; its part of the demo data from its own demo.py.
        for config in apps.get_app_configs():
            if not config.name.startswith("apps."):
                continue
            for module in ("privacy", "retention", "dashboard", "demo"):
                if module_has_submodule(config.module, module):
                    import_module(f"{config.name}.{module}")
        from apps.core.privacy import registry_close

        # Every app has registered: an eraser said to run after an app nobody installed fails
        # at start-up, not halfway through someone's erasure.
        registry_close()
