from django.core.management.base import BaseCommand

from apps.core.schedules import schedules_setup


class Command(BaseCommand):
    help = (
        "Create or update Celery beat's schedule from apps/core/schedules.py (migrate does the "
        "same after every run); safe to run any number of times."
    )

    def handle(self, *args, **options):
        counts = schedules_setup()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
