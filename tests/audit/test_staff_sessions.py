"""Staff sessions end after an idle time and an absolute time (STAFF_SESSION_IDLE_TIMEOUT,
STAFF_SESSION_MAX_AGE); member sessions keep the cookie's age. Time is moved by writing the
session's stamps, or by passing a fixed clock to the rule."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit.middleware import SEEN, STARTED, staff_session_expired
from tests.factories import CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


def backdate(client, *, started, seen):
    """Make the session look as if it began `started` ago and was last used `seen` ago."""
    now = int(timezone.now().timestamp())
    session = client.session
    session[STARTED] = now - int(started.total_seconds())
    session[SEEN] = now - int(seen.total_seconds())
    session.save()


@pytest.fixture
def staff_client(client):
    client.force_login(make_staff(superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200  # starts the clocks
    return client


def assert_logged_out_to_admin_login(client, response, path):
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={path}"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Your session has expired. Please log in again." in page.content.decode()


def test_a_staff_session_idle_for_longer_than_the_limit_is_logged_out(staff_client):
    backdate(staff_client, started=31 * MINUTE, seen=31 * MINUTE)
    response = staff_client.get(reverse("admin:index"))
    assert_logged_out_to_admin_login(staff_client, response, reverse("admin:index"))


def test_a_busy_staff_session_still_ends_after_the_absolute_limit(staff_client):
    backdate(staff_client, started=12 * HOUR + MINUTE, seen=MINUTE)
    # Only the path goes to the login page: an admin search can hold a customer's name.
    url = reverse("admin:customers_customer_changelist")
    response = staff_client.get(url, {"q": "山田"})
    assert_logged_out_to_admin_login(staff_client, response, url)


def test_a_staff_session_in_use_goes_on_and_its_idle_clock_restarts(staff_client):
    backdate(staff_client, started=11 * HOUR, seen=29 * MINUTE)
    assert staff_client.get(reverse("admin:index")).status_code == 200
    seen = staff_client.session[SEEN]
    assert abs(seen - timezone.now().timestamp()) < 5
    assert "_auth_user_id" in staff_client.session


def test_the_limits_come_from_settings(staff_client, settings):
    settings.STAFF_SESSION_IDLE_TIMEOUT = 5 * MINUTE
    backdate(staff_client, started=6 * MINUTE, seen=6 * MINUTE)
    response = staff_client.get(reverse("admin:index"))
    assert_logged_out_to_admin_login(staff_client, response, reverse("admin:index"))


def test_a_member_session_is_not_timed_out(client):
    client.force_login(CustomerFactory().user)
    # Even with stamps far older than both staff limits.
    backdate(client, started=3 * 24 * HOUR, seen=2 * 24 * HOUR)
    assert client.get(reverse("mypage:overview")).status_code == 200
    assert "_auth_user_id" in client.session


def test_the_rule_on_a_fixed_clock(settings):
    settings.STAFF_SESSION_IDLE_TIMEOUT = 30 * MINUTE
    settings.STAFF_SESSION_MAX_AGE = 12 * HOUR
    login = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)
    session = {}
    assert not staff_session_expired(session, now=login)  # the first request starts the clocks
    assert session == {STARTED: int(login.timestamp()), SEEN: int(login.timestamp())}
    second = datetime.timedelta(seconds=1)
    assert not staff_session_expired(dict(session), now=login + 30 * MINUTE)
    assert staff_session_expired(dict(session), now=login + 30 * MINUTE + second)
    # Used every 20 minutes, it lasts until the absolute limit and no longer.
    moment = login
    while moment + 20 * MINUTE <= login + 12 * HOUR:
        moment += 20 * MINUTE
        assert not staff_session_expired(session, now=moment), moment
    assert staff_session_expired(session, now=login + 12 * HOUR + 10 * MINUTE)


def test_the_expiry_message_speaks_japanese(staff_client):
    backdate(staff_client, started=31 * MINUTE, seen=31 * MINUTE)
    response = staff_client.get(reverse("admin:index"), follow=True, HTTP_ACCEPT_LANGUAGE="ja")
    assert "セッションの有効期限が切れました" in response.content.decode()
