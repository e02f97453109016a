from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed everywhere so `manage.py bench_campaign` works on a fresh clone; it has no
    models, and no domain app imports it."""

    name = "apps.bench"
    verbose_name = "Benchmarks"
