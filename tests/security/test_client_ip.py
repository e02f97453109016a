"""The client address behind a reverse proxy: one helper (apps.core.security.client_ip) for the
rate limits, the login lockout, the staff access log and the consent evidence.

With ``TRUSTED_PROXIES`` naming the proxy, the address the proxy saw is the client's, so two
visitors behind one nginx are two clients. Without it, ``X-Forwarded-For`` is the client's own
word: a forged one changes nothing."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.audit.models import AccessLog
from apps.consents.models import ConsentEvent
from apps.core.security import client_ip, user_agent
from apps.customers.models import Inquiry
from tests.factories import PASSWORD, CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # nginx, as gunicorn sees it
ALICE, BOB = "203.0.113.7", "198.51.100.23"


def through_proxy(client_address, forged=None):
    """What gunicorn receives from nginx (`proxy_add_x_forwarded_for`): whatever the client
    sent, then the address nginx saw."""
    chain = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


def request(**meta):
    return RequestFactory().get("/", **meta)


# ---------------------------------------------------------------------- the helper


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=BOB)) == ALICE
    assert client_ip(request(**through_proxy(ALICE))) == PROXY


def test_with_the_proxy_trusted_the_address_it_saw_is_the_client(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request(**through_proxy(ALICE))) == ALICE
    # What the client wrote itself sits further left and is not believed.
    assert client_ip(request(**through_proxy(ALICE, forged=BOB))) == ALICE


def test_a_request_that_did_not_come_through_the_proxy_keeps_its_own_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=f"{BOB}, {PROXY}")) == ALICE
    # From the proxy, but with nothing usable in the header: the proxy's own address.
    for junk in ("", "not-an-address", "\x00, ,;"):
        assert client_ip(request(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=junk)) == PROXY
    assert client_ip(request(REMOTE_ADDR="")) is None


def test_two_hops_a_load_balancer_then_nginx_on_the_same_machine(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"{BOB}, {ALICE}, 10.1.2.3"}
    assert client_ip(request(**meta)) == ALICE
    # Reaching nginx directly (bypassing the balancer) with a forged balancer hop fails the
    # check: the request stays on the proxy's address rather than taking the forged one.
    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"{BOB}, 10.1.2.3, {ALICE}"}
    assert client_ip(request(**meta)) == "127.0.0.1"


# ---------------------------------------------------------------------- its users

TRUSTED = pytest.mark.parametrize("trusted", [True, False], ids=["trusted proxy", "no proxy set"])


@pytest.fixture
def proxy_setting(settings, request):
    trusted = request.node.callspec.params["trusted"]
    settings.TRUSTED_PROXIES = [PROXY] if trusted else []
    return trusted


@TRUSTED
def test_rate_limits_count_each_client_behind_the_proxy(client, settings, proxy_setting, trusted):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "contact": "1/h"}
    data = {"name": "山田 花子", "email": "ask@example.com", "topic": "order", "message": "?"}
    assert client.post("/contact/", data, **through_proxy(ALICE)).status_code == 302
    assert client.post("/contact/", data, **through_proxy(ALICE)).status_code == 429
    # Bob behind the same proxy; without the setting he is only Alice claiming to be him.
    bob = client.post("/contact/", data, **through_proxy(BOB, forged="192.0.2.1"))
    assert bob.status_code == (302 if trusted else 429)
    assert Inquiry.objects.count() == (2 if trusted else 1)


@TRUSTED
def test_the_login_lockout_is_per_client_behind_the_proxy(settings, proxy_setting, trusted):
    member = CustomerFactory().user
    alice, bob = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        alice.post(
            reverse("login"),
            {"username": member.email, "password": "wrong"},
            **through_proxy(ALICE),
        )
    right = {"username": member.email, "password": PASSWORD}
    assert alice.post(reverse("login"), right, **through_proxy(ALICE)).status_code == 429
    # Five bad passwords from one visitor do not lock the member out for everyone else.
    response = bob.post(reverse("login"), right, **through_proxy(BOB, forged=ALICE))
    assert response.status_code == (302 if trusted else 429)


@TRUSTED
def test_the_access_log_records_the_client_behind_the_proxy(client, proxy_setting, trusted):
    client.force_login(make_staff(superuser=True))
    customer = CustomerFactory()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    assert client.get(url, **through_proxy(ALICE, forged=BOB)).status_code == 200
    entry = AccessLog.objects.filter(model_label="customers.Customer").latest("pk")
    assert entry.ip_address == (ALICE if trusted else PROXY)


@TRUSTED
def test_consent_evidence_records_the_client_behind_the_proxy(client, proxy_setting, trusted):
    customer = CustomerFactory()
    client.force_login(customer.user)
    client.post(
        reverse("consents:mypage"),
        {"purpose": "newsletter", "action": "grant"},
        **through_proxy(ALICE, forged=BOB),
    )
    event = ConsentEvent.objects.get(customer=customer)
    assert event.context.ip_address == (ALICE if trusted else PROXY)


def test_a_malformed_proxy_or_rate_setting_fails_the_system_checks(settings):
    from django.core.checks import run_checks

    assert not [e for e in run_checks(tags=["security"]) if e.id.startswith("core.")]
    settings.TRUSTED_PROXIES = [PROXY, ""]  # e.g. a trailing comma in the environment
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "contact": "five per hour"}
    found = {e.id for e in run_checks(tags=["security"])}
    assert {"core.E001", "core.E002"} <= found


def test_the_user_agent_is_cut_to_what_the_consent_ledger_keeps():
    """apps.core.security.user_agent, beside client_ip: the evidence every consent view records."""
    assert user_agent(request(HTTP_USER_AGENT="x" * 600)) == "x" * 500
    assert user_agent(request()) == ""
