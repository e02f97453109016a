"""Work every request did that it need not: the login read twice on My Page, the external-tag
table read for visitors who allowed no tag, templates parsed again in production."""

import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import AddressFactory, CustomerFactory
from tests.security.test_settings import BASE_DIR, production_env

pytestmark = pytest.mark.django_db


def tables_read(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"].split(" FROM ", 1)[1].split()[0] for q in captured if " FROM " in q["sql"]]


def test_my_page_reads_the_members_login_once(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    client.get(reverse("mypage:overview"))
    assert tables_read(client, reverse("mypage:overview")).count('"customers_user"') == 1


def test_my_page_loads_the_login_and_the_profile_in_one_query(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    client.get(reverse("mypage:overview"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("mypage:overview")).status_code == 200
    login = [q["sql"] for q in captured if ' FROM "customers_user"' in q["sql"]]
    assert len(login) == 1 and 'JOIN "customers_customer"' in login[0]
    # The profile is not read again on its own (the cookie choices' query joins the consent
    # states, a different read).
    alone = [
        q["sql"]
        for q in captured
        if ' FROM "customers_customer"' in q["sql"] and "consents_consentstate" not in q["sql"]
    ]
    assert alone == []


def test_my_page_compiles_no_sql_after_its_first_request(client):
    """Its reads (the session, the login with the profile, the default address, the login
    address's state, the cookie choices, the latest orders) are compiled once per process
    (apps/core/compiled.py): compiling cost Django more than running them."""
    from tests.core.test_compiled import compiles

    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default=True)
    client.force_login(customer.user)
    assert client.get(reverse("mypage:overview")).status_code == 200
    assert compiles(lambda: client.get(reverse("mypage:overview"))) == 0


def test_my_page_privacy_compiles_no_sql_after_its_first_request(client):
    """The purposes, the member's states, history, first agreements and restriction, and the
    magazine section's subscriptions and magazines: compiled once per process."""
    from apps.consents.models import ConsentEvent, PersonRestriction, Purpose
    from apps.marketing.models import MailMagazine
    from tests.core.test_compiled import compiles
    from tests.marketing.helpers import magazine

    customer = CustomerFactory()
    restriction = PersonRestriction.objects.create(customer=customer, stop_provision=True)
    MailMagazine.objects.filter(slug="weekly").exists() or magazine()
    client.force_login(customer.user)
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})  # a history to show
    assert client.get(reverse("consents:mypage")).status_code == 200
    assert compiles(lambda: client.get(reverse("consents:mypage"))) == 0
    # What the compiled reads found is what the page shows.
    page = client.get(reverse("consents:mypage"))
    events = ConsentEvent.objects.filter(customer=customer)
    assert [event.pk for event, _refused in page.context["history"]] == list(
        events.order_by("-occurred_at", "-pk").values_list("pk", flat=True)
    )
    assert len(page.context["history"]) >= 2
    assert page.context["restriction"] == restriction
    for purpose in Purpose.objects.filter(is_active=True):
        assert purpose.name in page.content.decode()
    assert "週刊メールマガジン" in page.content.decode()


def test_an_expired_session_is_not_read_as_signed_in(client):
    from datetime import timedelta

    from django.utils import timezone

    from apps.customers.models import Session

    customer = CustomerFactory()
    client.force_login(customer.user)
    assert client.get(reverse("mypage:overview")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("mypage:overview")).status_code == 302


def test_a_session_signed_in_before_the_member_backend_stays_signed_in(client):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from apps.customers.sessions import SessionStore

    customer = CustomerFactory()
    store = SessionStore()
    store[SESSION_KEY] = str(customer.user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = customer.user.get_session_auth_hash()
    store.create()
    client.cookies["sessionid"] = store.session_key
    assert client.get(reverse("mypage:overview")).status_code == 200


def test_an_erased_member_has_no_profile_on_my_page(client):
    from apps.customers.models import Customer, User
    from apps.customers.selectors import customer_for_user

    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED)
    user = User.objects.select_related("customer").get(pk=customer.user_id)
    assert customer_for_user(user=user) is None


def test_no_tag_query_for_a_visitor_who_allowed_no_tag(client):
    assert '"consents_externaltag"' not in tables_read(client, reverse("consents:notice"))
    client.post(reverse("consents:cookie_choice"), {"choice": "necessary"})
    assert '"consents_externaltag"' not in tables_read(client, reverse("consents:notice"))
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})
    assert '"consents_externaltag"' in tables_read(client, reverse("consents:notice"))


def test_production_parses_each_template_once(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.template import engines;"
        "print(type(engines['django'].engine.template_loaders[0]).__module__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip() == "django.template.loaders.cached", result.stderr


def test_the_reconfirmation_check_runs_once_per_policy_generation(client):
    from apps.consents.models import PolicyVersion
    from apps.consents.services import consent_grant, policy_version_publish
    from tests.consents.factories import purpose

    customer = CustomerFactory()
    newsletter = purpose("newsletter")
    consent_grant(purpose=newsletter, source="signup", customer=customer)
    client.force_login(customer.user)
    client.get(reverse("mypage:overview"))
    assert '"consents_consentstate"' not in tables_read(client, reverse("mypage:overview"))

    # A widening policy is the one thing that makes consents pending: checked again at once.
    version = PolicyVersion.objects.create(
        version="2.0", title="v2", body_ja="x", widens_purposes=True
    )
    version.widened_purposes.set([newsletter])
    policy_version_publish(version=version)
    response = client.get(reverse("mypage:overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("consents:reconfirm"))


@pytest.mark.services
def test_the_redis_cache_keeps_one_client_per_pool():
    import os

    from apps.core.cache import RedisCache

    server = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/5"
    cache = RedisCache(server, {"KEY_PREFIX": "cost-test"})
    cache.set("k", "値", 30)
    assert cache.get("k") == "値"
    # The same client object each call (Django's makes a new one per call).
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    cache.delete("k")

    # A Redis CACHE_URL gets this backend: tests/security/test_settings.py (production).


@pytest.mark.postgres
def test_postgresql_prepares_the_statements_a_connection_repeats():
    from apps.customers.models import User

    connection.ensure_connection()
    assert connection.connection.prepare_threshold == 2
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()  # psycopg's own record of what it prepared
    for _ in range(4):
        list(User.objects.filter(pk=0))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "customers_user"' in statement for statement in prepared)


def test_preparing_can_be_turned_off_for_a_pooler_that_keeps_no_prepared_statements(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['OPTIONS'])"
    )
    env = production_env(tmp_path, DATABASE_URL="postgres://u:p@127.0.0.1:5/db")
    for value, expected in (("", "None"), ("5", "5")):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=BASE_DIR,
            env={**env, "DATABASE_PREPARE_THRESHOLD": value},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert f"'prepare_threshold': {expected}" in result.stdout, result.stderr
        assert "'server_side_binding': True" in result.stdout


def test_the_page_frame_is_kept_per_language_and_my_page_menu_per_page(client):
    from django.core.cache import caches

    frame = caches["frame"]
    frame.clear()
    customer = CustomerFactory()
    client.force_login(customer.user)

    ja = client.get(reverse("mypage:overview"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "プライバシーポリシー" in ja and 'active" href="/mypage/">トップ' in ja
    kept = len(frame._cache)
    assert kept >= 6  # head, footer, scripts, menu, the banner's text and buttons
    # Rendered from memory the second time: nothing new kept, the same frame served.
    again = client.get(reverse("mypage:overview"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert len(frame._cache) == kept
    footer = ja.split("<footer", 1)[1].split("</footer>", 1)[0]
    assert footer == again.split("<footer", 1)[1].split("</footer>", 1)[0]

    # Another language and another page of My Page each get their own.
    en = client.get(reverse("mypage:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Privacy policy" in en and "プライバシーポリシー" not in en
    orders = client.get(reverse("orders:list"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'active" href="/mypage/orders/">' in orders
    assert 'active" href="/mypage/">' not in orders


def test_the_cookie_banner_kept_in_memory_still_carries_each_visitors_own_form_token():
    from django.test import Client

    def banner(client):
        page = client.get(reverse("consents:notice")).content.decode()
        return page.split('id="cookie-banner"', 1)[1].split("</form>", 1)[0]

    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first, second = banner(one), banner(two)
    token = 'name="csrfmiddlewaretoken" value="'
    assert first.split(token)[1][:64] != second.split(token)[1][:64]
    assert first.split("</h2>")[0] == second.split("</h2>")[0]
    # The token in the banner is the visitor's own: their answer is accepted.
    answer = one.post(
        reverse("consents:cookie_choice"),
        {"choice": "necessary", "csrfmiddlewaretoken": first.split(token)[1].split('"')[0]},
    )
    assert answer.status_code == 302
