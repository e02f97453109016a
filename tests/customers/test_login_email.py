"""The login e-mail: staff cannot move it; a member moves it only with their password and the
link sent to the new address (the old address is told, every other session ends); a
correction request moves it only when that link is opened. Real services, real sessions and
the locmem outbox; only the clock of an expired link is moved."""

import datetime
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from apps.core import roles
from apps.customers import services
from apps.customers.models import Customer, EmailConfirmation, Session, User
from apps.privacy_requests import services as request_services
from apps.privacy_requests.models import Kind, PrivacyRequest, Status
from tests.audit.test_access_log import change_form_data
from tests.factories import PASSWORD, CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

STAFF_ADDRESS = "takeover@staff.test"
NEW_ADDRESS = "hanako.new@example.net"
LINK = re.compile(r"https?://\S+/accounts/email/confirm/(\S+)/")


def logged_in(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


def reset_mails_to(mailoutbox, address):
    return [m for m in mailoutbox if address in m.to]


def link_path(message) -> str:
    token = LINK.search(message.body).group(1)
    return reverse("email_confirm", args=[token])


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.PRIVACY_OFFICER])
def test_staff_cannot_move_a_members_login_email_in_the_admin(
    role, client, mailoutbox, django_capture_on_commit_callbacks
):
    member = CustomerFactory()
    login_email = member.user.email
    client.force_login(make_staff(role))
    url = reverse("admin:customers_customer_change", args=[member.pk])
    data = change_form_data(client.get(url), email=STAFF_ADDRESS, phone="03-5555-0000")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    member.user.refresh_from_db()
    # Contact details still change; the address (the login) does not.
    assert member.phone == "03-5555-0000"
    assert member.user.email == member.email == login_email

    # The public password reset for the staff member's chosen address reaches nobody.
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("password_reset"), {"email": STAFF_ADDRESS})
    assert reset_mails_to(mailoutbox, STAFF_ADDRESS) == []


def test_a_guests_contact_email_stays_editable_in_the_admin(client):
    guest = CustomerFactory(user=None, email="guest@example.com")
    client.force_login(make_staff(roles.SUPPORT))
    url = reverse("admin:customers_customer_change", args=[guest.pk])
    response = client.post(url, change_form_data(client.get(url), email="fixed@example.com"))
    assert response.status_code == 302
    guest.refresh_from_db()
    assert guest.email == "fixed@example.com"


def test_no_staff_role_may_edit_logins_and_even_the_administrator_cannot_move_a_members():
    member = CustomerFactory()
    login_email = member.user.email
    for role in (roles.SUPPORT, roles.PRIVACY_OFFICER, roles.MARKETING):
        client = Client()
        client.force_login(make_staff(role))
        url = reverse("admin:customers_user_change", args=[member.user.pk])
        assert client.get(url).status_code == 403, role
    admin = Client()
    admin.force_login(make_staff(superuser=True))
    url = reverse("admin:customers_user_change", args=[member.user.pk])
    page = admin.get(url)
    assert "email" not in page.context["adminform"].form.fields
    response = admin.post(url, change_form_data(page, email=STAFF_ADDRESS))
    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.email == login_email
    # Nor can staff set the member's password and log in as them.
    password_url = reverse("admin:auth_user_password_change", args=[member.user.pk])
    assert admin.get(password_url).status_code == 403
    assert (
        admin.post(
            password_url, {"password1": "x-Pass-9876", "password2": "x-Pass-9876"}
        ).status_code
        == 403
    )
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


def test_a_members_change_needs_the_password_and_the_link_and_ends_other_sessions(
    mailoutbox, django_capture_on_commit_callbacks
):
    member = CustomerFactory()
    old_address = member.user.email
    here, elsewhere = logged_in(member), logged_in(member)
    assert Session.objects.filter(user_id=member.user.pk).count() == 2

    wrong = here.post(reverse("mypage:email_change"), {"email": NEW_ADDRESS, "password": "nope"})
    assert wrong.status_code == 200 and "password" in wrong.context["form"].errors
    assert not EmailConfirmation.objects.filter(email=NEW_ADDRESS).exists()

    with django_capture_on_commit_callbacks(execute=True):
        asked = here.post(
            reverse("mypage:email_change"), {"email": NEW_ADDRESS, "password": PASSWORD}
        )
    assert asked.status_code == 302
    [link_mail] = mailoutbox
    assert link_mail.to == [NEW_ADDRESS]
    member.user.refresh_from_db()
    assert member.user.email == old_address  # nothing moves before the link is opened
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("password_reset"), {"email": NEW_ADDRESS})
    assert len(mailoutbox) == 1  # no reset mail to the unconfirmed address

    path = link_path(link_mail)
    assert here.get(path).status_code == 200  # a mail scanner's GET changes nothing
    member.user.refresh_from_db()
    assert member.user.email == old_address
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = here.post(path)
    assert confirmed.status_code == 200
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.user.email == member.email == NEW_ADDRESS
    assert member.user.email_confirmed_at is not None
    notice = mailoutbox[-1]
    assert notice.to == [old_address] and NEW_ADDRESS not in notice.body
    # The other session is over; the one that confirmed goes on.
    assert elsewhere.get(reverse("mypage:overview")).status_code == 302
    assert here.get(reverse("mypage:overview")).status_code == 200
    assert Session.objects.filter(user_id=member.user.pk).count() == 1


def _asked(member, capture) -> str:
    with capture(execute=True):
        confirmation = services.user_email_change_request(user=member.user, new_email=NEW_ADDRESS)
    return reverse("email_confirm", args=[services.email_confirmation_token(confirmation.pk)])


def _unchanged(member, old_address):
    member.refresh_from_db()
    member.user.refresh_from_db()
    return member.user.email == member.email == old_address


def test_an_expired_tampered_used_or_superseded_link_changes_nothing(
    client, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    member = CustomerFactory()
    old_address = member.user.email
    caplog.set_level(logging.DEBUG)

    path = _asked(member, django_capture_on_commit_callbacks)
    tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + "/"
    assert client.post(tampered).status_code == 400
    assert client.post(reverse("email_confirm", args=["12:nonsense"])).status_code == 400
    assert _unchanged(member, old_address)

    EmailConfirmation.objects.update(
        created_at=datetime.datetime.now(datetime.UTC)
        - datetime.timedelta(hours=services.EMAIL_CONFIRMATION_HOURS, minutes=1)
    )
    expired = client.post(path)
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    assert _unchanged(member, old_address)

    first = _asked(member, django_capture_on_commit_callbacks)
    second = _asked(member, django_capture_on_commit_callbacks)
    assert client.post(first).status_code == 400  # superseded by the newer link
    assert _unchanged(member, old_address)
    assert client.post(second).status_code == 200
    assert client.post(second).status_code == 400  # used
    member.user.refresh_from_db()
    assert member.user.email == NEW_ADDRESS

    # Neither tokens nor addresses reach the log.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (path, first, second, tampered, NEW_ADDRESS, old_address):
        assert secret.strip("/").rsplit("/", 1)[-1] not in logged, secret


def test_signup_sends_a_link_and_resend_replaces_it(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("signup"),
            {"email": "fresh@example.com", "password1": "blue-mountain-coffee-77",
             "password2": "blue-mountain-coffee-77", "family_name": "佐藤", "given_name": "健",
             "family_name_kana": "サトウ", "given_name_kana": "ケン"},
        )  # fmt: skip
    user = User.objects.get(email="fresh@example.com")
    assert user.email_confirmed_at is None
    [first] = mailoutbox
    assert first.to == ["fresh@example.com"]
    # Unconfirmed members still log in and use My Page, which offers a new link.
    client.force_login(user)
    overview = client.get(reverse("mypage:overview"))
    assert (
        overview.status_code == 200
        and reverse("mypage:email_confirm_resend") in overview.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("mypage:email_confirm_resend")).status_code == 302
    second = mailoutbox[-1]
    assert second.to == ["fresh@example.com"] and link_path(second) != link_path(first)
    assert client.post(link_path(first)).status_code == 400
    assert client.post(link_path(second)).status_code == 200
    user.refresh_from_db()
    assert user.email_confirmed_at is not None


def test_a_correction_request_moves_the_login_only_after_the_link(
    mailoutbox, django_capture_on_commit_callbacks
):
    member = CustomerFactory()
    old_address = member.user.email
    officer = make_staff(roles.PRIVACY_OFFICER)
    with django_capture_on_commit_callbacks(execute=True):
        pr = request_services.privacy_request_create_from_mypage(
            customer=member,
            kind=Kind.CORRECTION,
            requested_changes={"email": NEW_ADDRESS, "phone": "03-1111-2222"},
        )
        request_services.privacy_request_approve(privacy_request=pr, by=officer)
        request_services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr = PrivacyRequest.objects.get(pk=pr.pk)
    assert pr.status == Status.COMPLETED
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.phone == "03-1111-2222"
    assert member.user.email == member.email == old_address
    assert "email" not in pr.applied_changes
    # The completion notice (to the current address) says the link decides, not "no change".
    notices = [m.body for m in mailoutbox if m.to == [old_address] and pr.reference in m.body]
    with translation.override(pr.language):
        expected = translation.gettext(
            "Your new e-mail address: we sent a link to it. It becomes your login and contact "
            "address when you open that link."
        )
        unexpected = translation.gettext(
            "Your data already had these values: nothing needed to change."
        )
    assert [expected in body for body in notices].count(True) == 1
    assert not any(unexpected in body for body in notices)
    [link_mail] = [m for m in mailoutbox if m.to == [NEW_ADDRESS]]
    confirmation = EmailConfirmation.objects.get(email=NEW_ADDRESS)
    assert confirmation.kind == EmailConfirmation.Kind.CORRECTION

    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post(link_path(link_mail)).status_code == 200
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.user.email == member.email == NEW_ADDRESS
    assert mailoutbox[-1].to == [old_address]


def test_rate_limits_answer_429(settings, client, caplog):
    caplog.set_level(logging.DEBUG)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email_change": "1/h", "email_confirm": "1/h"}
    member = CustomerFactory()
    client.force_login(member.user)
    change = reverse("mypage:email_change")
    assert client.post(change, {"email": NEW_ADDRESS, "password": "nope"}).status_code == 200
    assert client.post(change, {"email": NEW_ADDRESS, "password": PASSWORD}).status_code == 429
    confirm = reverse("email_confirm", args=["1:x"])
    assert client.post(confirm).status_code == 400
    assert client.post(confirm).status_code == 429
    assert "1:x" not in "\n".join(r.getMessage() for r in caplog.records)
    assert client.post(reverse("mypage:email_confirm_resend")).status_code == 429
    assert not EmailConfirmation.objects.exists()
    assert Customer.objects.get(pk=member.pk).email == member.email
