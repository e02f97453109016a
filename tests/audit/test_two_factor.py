"""Staff two-factor login: with ADMIN_REQUIRE_2FA on (always in production), a staff user
without a confirmed TOTP device cannot open the admin; with one and a valid code they can."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core import roles
from tests.factories import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
LOGIN = "/admin/login/"


@pytest.fixture
def require_2fa(settings):
    settings.ADMIN_REQUIRE_2FA = True


def token_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def admin_login(client, user, token=""):
    return client.post(
        f"{LOGIN}?next={ADMIN}",
        {"username": user.email, "password": PASSWORD, "otp_token": token, "next": ADMIN},
    )


def test_without_a_device_staff_cannot_open_the_admin(client, require_2fa):
    staff = make_staff(roles.SUPPORT)
    response = admin_login(client, staff)
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(ADMIN).status_code == 302
    # A password-only session (e.g. from the member login) is not enough either.
    client.force_login(staff)
    response = client.get(ADMIN)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 302


def wrong_token_for(device: TOTPDevice) -> str:
    return "000000" if token_for(device) != "000000" else "111111"


def test_with_a_confirmed_device_and_a_valid_code_staff_get_in(client, require_2fa):
    staff = make_staff(roles.SUPPORT)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    response = admin_login(client, staff, token=token_for(device))
    assert response.status_code == 302
    assert client.get(ADMIN).status_code == 200


def test_a_wrong_code_is_refused(client, require_2fa):
    staff = make_staff(roles.SUPPORT)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    response = admin_login(client, staff, token=wrong_token_for(device))
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(ADMIN).status_code == 302


def test_an_unconfirmed_device_does_not_count(client, require_2fa):
    staff = make_staff(roles.SUPPORT)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=False)
    admin_login(client, staff, token=token_for(device))
    assert client.get(ADMIN).status_code == 302


def test_with_the_setting_off_a_password_is_enough(client, settings):
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(make_staff(roles.SUPPORT))
    assert client.get(ADMIN).status_code == 200


def test_enrolment_command_prints_the_uri_then_confirms_with_a_code(client, require_2fa):
    staff = make_staff(roles.PRIVACY_OFFICER)
    out = io.StringIO()
    call_command("staff_otp_enrol", staff.email, stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    call_command("staff_otp_enrol", staff.email, token=token_for(device), stdout=io.StringIO())
    device.refresh_from_db()
    assert device.confirmed
    # The code just used cannot be replayed; the login takes the next one, so reset last_t.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    response = admin_login(client, staff, token=token_for(device))
    assert response.status_code == 302, response.context["form"].errors
    assert client.get(ADMIN).status_code == 200


def test_enrolment_refuses_a_wrong_code():
    from django.core.management.base import CommandError

    staff = make_staff(roles.SUPPORT)
    call_command("staff_otp_enrol", staff.email, stdout=io.StringIO())
    device = TOTPDevice.objects.get(user=staff)
    with pytest.raises(CommandError):
        call_command(
            "staff_otp_enrol", staff.email, token=wrong_token_for(device), stdout=io.StringIO()
        )
    device.refresh_from_db()
    assert not device.confirmed


@pytest.mark.parametrize("view", ["config", "qrcode"])
def test_a_device_page_that_names_no_device_is_a_404(client, view):
    """django-otp's admin views fetch the device with .get(): a missing one was a 500."""
    client.force_login(make_staff(superuser=True))
    assert client.get(f"/admin/otp_totp/totpdevice/999/{view}/").status_code == 404
