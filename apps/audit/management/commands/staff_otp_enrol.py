from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import staff_otp_device_confirm, staff_otp_device_create
from apps.customers.models import User


class Command(BaseCommand):
    help = (
        "Enrol a staff user's authenticator app for the admin's two-factor login. First run "
        "prints an otpauth:// URI to scan (or type in); run again with --token to confirm it."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff user's login e-mail")
        parser.add_argument("--token", help="a 6-digit code from the app, to confirm the device")

    def handle(self, *args, email, token=None, **options):
        user = User.objects.filter(email__iexact=email, is_staff=True).first()
        if user is None:
            raise CommandError("No staff user with that e-mail.")
        if token:
            if staff_otp_device_confirm(user=user, token=token.strip()) is None:
                raise CommandError("No pending device, or the code is wrong: try again.")
            self.stdout.write(f"Device confirmed for staff user #{user.pk}.")
            return
        device = staff_otp_device_create(user=user)
        self.stdout.write("Scan this URI with an authenticator app (keep it secret):")
        self.stdout.write(device.config_url)
        self.stdout.write(f"Then run: manage.py staff_otp_enrol {email} --token <code>")
