import datetime

from django.core.management.base import BaseCommand

from apps.core import retention
from apps.core.services import retention_run


class Command(BaseCommand):
    help = "Apply the retention schedule now (the daily beat task does the same)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be done; change nothing"
        )
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, help="as if it were this day (YYYY-MM-DD)"
        )

    def handle(self, *args, dry_run=False, today=None, **options):
        counts = retention_run(today=today, dry_run=dry_run)
        descriptions = {rule.name: rule.description for rule in retention.rules()}
        verb = "would apply to" if dry_run else "applied to"
        for name, count in counts.items():
            self.stdout.write(f"{name}: {verb} {count} ({descriptions[name]})")
