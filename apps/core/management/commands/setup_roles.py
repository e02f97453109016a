from django.core.management.base import BaseCommand

from apps.core.services import roles_setup


class Command(BaseCommand):
    help = "Create the staff groups (Support, Privacy officer, Marketing) with least privilege."

    def handle(self, *args, **options):
        for role, count in roles_setup().items():
            self.stdout.write(f"{role}: {count} permissions")
