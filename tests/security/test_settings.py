"""Security settings: login lockout, Content-Security-Policy, rate limits, production
settings that pass `check --deploy` and require staff two-factor login."""

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from apps.customers.models import Customer, Inquiry, User
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


# ---------------------------------------------------------------------- lockout (django-axes)


def login(client, email, password, ip="127.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_locks_after_repeated_failures(client, caplog):
    member = CustomerFactory(user__email="locked.member@example.com").user
    limit = settings.AXES_FAILURE_LIMIT
    with caplog.at_level("INFO"):
        for _ in range(limit - 1):
            assert login(client, member.email, "wrong-password").status_code == 200
        locked = login(client, member.email, "wrong-password")
    assert locked.status_code == 429
    assert "too many failed login attempts" in locked.content.decode()
    # Even the right password is refused while locked.
    assert login(client, member.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Axes' log lines say nothing of who or where.
    assert "AXES" in caplog.text
    assert "locked.member" not in caplog.text and "127.0.0.1" not in caplog.text


def test_lockout_is_per_account_and_address(client):
    member = CustomerFactory().user
    other = CustomerFactory().user
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, member.email, "wrong-password")
    assert login(client, member.email, PASSWORD).status_code == 429
    assert login(client, other.email, PASSWORD).status_code == 302
    client.logout()
    assert login(client, member.email, PASSWORD, ip="127.0.0.2").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client):
    member = CustomerFactory().user
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, member.email, "wrong-password")
    assert login(client, member.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, member.email, "wrong-password")
    assert login(client, member.email, PASSWORD).status_code == 302


# ---------------------------------------------------------------------- CSP


@pytest.mark.parametrize("url", ["/", "/contact/", "/accounts/signup/", "/admin/login/"])
def test_content_security_policy_header_forbids_inline_script(client, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_inline_script_or_event_handlers():
    offenders = [
        str(path.relative_to(BASE_DIR))
        for path in (BASE_DIR / "templates").rglob("*.html")
        if INLINE_SCRIPT.search(path.read_text())
    ]
    assert offenders == []


def test_no_rendered_page_has_inline_script(client):
    client.force_login(CustomerFactory().user)
    for url in ["/", "/contact/", "/mypage/", "/mypage/profile/", "/mypage/addresses/new/"]:
        body = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(body), url
        assert "js/site.js" in body


# ---------------------------------------------------------------------- rate limits

CONTACT = {
    "name": "山田 花子",
    "email": "ask@example.com",
    "topic": "order",
    "message": "いつ届きますか",
}


def test_contact_form_is_rate_limited_with_a_clear_429(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "contact": "2/h"}
    for _ in range(2):
        assert client.post("/contact/", CONTACT).status_code == 302
    response = client.post("/contact/", CONTACT)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "too many times" in response.content.decode()
    assert Inquiry.objects.count() == 2
    assert client.get("/contact/").status_code == 200  # reading the form is never limited
    other = client.post("/contact/", CONTACT, REMOTE_ADDR="127.0.0.9")
    assert other.status_code == 302 and Inquiry.objects.count() == 3


def test_signup_is_rate_limited(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "1/h"}
    data = {
        "email": "first@example.com", "password1": "sakura-blossom-2026",
        "password2": "sakura-blossom-2026", "family_name": "鈴木", "given_name": "一郎",
        "family_name_kana": "スズキ", "given_name_kana": "イチロウ",
    }  # fmt: skip
    assert client.post("/accounts/signup/", data).status_code == 302
    client.logout()
    response = client.post("/accounts/signup/", {**data, "email": "second@example.com"})
    assert response.status_code == 429
    assert not User.objects.filter(email="second@example.com").exists()
    assert Customer.objects.count() == 1


def test_password_reset_is_rate_limited(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "1/h"}
    member = CustomerFactory().user
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out on commit
        assert client.post("/accounts/password/reset/", {"email": member.email}).status_code == 302
        assert client.post("/accounts/password/reset/", {"email": member.email}).status_code == 429
    assert len(mailoutbox) == 1


def test_rate_parsing():
    from apps.core.ratelimit import parse_rate

    assert parse_rate("5/h") == (5, 3600)
    assert parse_rate("10/15m") == (10, 900)
    with pytest.raises(ValueError):
        parse_rate("five per hour")


# ---------------------------------------------------------------------- production settings


def production_env(tmp_path, **overrides):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "shop.example.jp",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "SHOP_NAME": "Test Shop K.K.",
        "SHOP_POSTAL_ADDRESS": "〒100-0001 東京都千代田区千代田1-1",
        "SHOP_REPRESENTATIVE": "Taro Yamada",
        "SHOP_CONTACT_EMAIL": "privacy@shop.test",
        "SITE_URL": "https://shop.example.com",
        "SUPPRESSION_HMAC_KEY": "a-long-random-key-for-the-suppression-list-hashes",
        "PSEUDONYMISATION_KEY": "a-long-random-key-for-the-pseudonymised-export-ids",
    }
    env.update(overrides)
    return env


def run_manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_check_deploy_with_production_settings_is_clean(tmp_path):
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_would_catch_a_weak_setting(tmp_path):
    """The check above can fail: without HSTS it warns."""
    env = production_env(tmp_path, SECURE_HSTS_SECONDS="0")
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "security.W004" in result.stderr + result.stdout


def test_production_requires_staff_two_factor_and_secure_cookies(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.ADMIN_REQUIRE_2FA, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.CACHES['default']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=production_env(tmp_path),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "True", "True", "apps.core.cache.RedisCache",
    ]  # fmt: skip


HEALTH_CHECK_OVER_PLAIN_HTTP = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="shop.example.jp")
print(client.get("/healthz").status_code, client.get("/").status_code)
"""


def test_healthz_answers_a_plain_http_check_under_production_settings(tmp_path):
    """A load balancer checks over plain HTTP: /healthz answers it (200 while the database
    answers); every other page still redirects to HTTPS."""
    result = subprocess.run(
        [sys.executable, "-c", HEALTH_CHECK_OVER_PLAIN_HTTP], cwd=BASE_DIR,
        env=production_env(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "301"]


def test_the_limit_and_lockout_pages_speak_japanese(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "contact": "0/h"}
    response = client.post("/contact/", CONTACT, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 429
    assert "送信回数が多すぎます" in response.content.decode()


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_oversized_login_is_refused_before_authentication(client, url):
    """Found by the junk test on PostgreSQL: a 5,000-character login reached authenticate()
    and django-axes failed to store it (varchar 255) -> 500."""
    from axes.models import AccessAttempt

    response = client.post(url, {"username": "0" * 5000, "password": "x"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not AccessAttempt.objects.exists()
