"""``manage.py export_pseudonymised orders|customers --staff-user EMAIL [--output FILE]``: the
pseudonymised export for analysis (apps/orders/pseudonymised.py), streamed to a file or stdout.
The staff user named is the one the access log records; they need the privacy officer's
``audit.export_personal_data``."""

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.customers.models import User
from apps.orders import pseudonymised


class Command(BaseCommand):
    help = "Export orders or customers pseudonymised for analysis (APPI Art. 41), as CSV."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=pseudonymised.KINDS)
        parser.add_argument("--staff-user", required=True, help="e-mail of the staff user")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, kind, staff_user, output=None, **options):
        user = User.objects.filter(email__iexact=staff_user.strip()).first()
        if user is None:
            raise CommandError("No such staff user.")
        try:
            lines = pseudonymised.pseudonymised_csv(kind=kind, staff_user=user)
        except PermissionDenied as exc:
            raise CommandError(
                "This staff user may not export personal data (privacy officer only)."
            ) from exc
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                for line in lines:
                    out.write(line)
        else:
            for line in lines:
                self.stdout.write(line, ending="")
