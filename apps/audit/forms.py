from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from apps.customers.forms import BoundedUsernameMixin


class StaffAuthenticationForm(BoundedUsernameMixin, AdminAuthenticationForm):
    """The admin login without a second factor (ADMIN_REQUIRE_2FA off)."""


class StaffOTPAuthenticationForm(BoundedUsernameMixin, OTPAdminAuthenticationForm):
    """The admin login with a TOTP code. Staff have one authenticator app each, so when no
    device is chosen, the user's only confirmed device is used (django-otp otherwise asks to
    pick one in a second round trip)."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device
