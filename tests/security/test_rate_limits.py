"""Rate limits: every anonymous or member write endpoint answers 429 once over the limit of its
scope in ``settings.RATE_LIMITS``, and the refused request writes nothing and sends nothing.

The table and the URL conf are checked against each other: a scope that guards no URL, or a
view that is neither limited nor listed below as not writing, fails here."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.customers import services as customer_services
from apps.customers.models import User
from apps.integration.api.throttling import ClientRateThrottle
from apps.marketing import services as marketing_services
from apps.marketing.mail import unsubscribe_token
from apps.privacy_requests import services as request_services
from apps.privacy_requests.models import Channel, Kind
from tests.factories import PASSWORD, CustomerFactory, make_staff
from tests.marketing.helpers import magazine

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
SIGNUP = {
    "password1": "sakura-blossom-2026", "password2": "sakura-blossom-2026",
    "family_name": "鈴木", "given_name": "一郎", "family_name_kana": "スズキ",
    "given_name_kana": "イチロウ",
}  # fmt: skip
CONTACT = {"name": "山田 花子", "topic": "order", "message": "いつ届きますか"}
ADDRESS = {"recipient_name": "山田", "country": "JP", "postal_code": "150-0001",
           "prefecture": "東京都", "city": "渋谷区", "line1": "1-2-3", "phone": "03-1111-2222"}  # fmt: skip


def on_commit():
    """Run what the view queues for after its commit (mails, eager tasks), as production does."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def member(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    return customer


def pending_subscriptions(count):
    """Visitors who asked for the magazine, with the confirmation link each was mailed."""
    mag = magazine()
    found = []
    for n in range(count):
        with on_commit():
            subscription = marketing_services.subscription_request(
                email=f"reader{n}@example.com", magazine=mag
            )
        token = re.search(r"/newsletter/confirm/([^/\s]+)/", mail.outbox[-1].body).group(1)
        found.append((subscription, token))
    return mag, found


def request_with_code(customer):
    privacy_request = request_services.privacy_request_create(
        kind=Kind.ERASURE, channel=Channel.POSTAL_MAIL, customer=customer,
        requester_name=customer.full_name, requester_email=customer.email,
    )  # fmt: skip
    with on_commit():
        request_services.privacy_request_send_code(privacy_request=privacy_request, by=None)
    code = re.search(r"[:：] ?(\d{6})(?!\d)", mail.outbox[-1].body).group(1)
    return privacy_request, code


def unconfirmed_member(client):
    customer = member(client)
    User.objects.filter(pk=customer.user_id).update(email_confirmed_at=None)
    return customer


def email_change_links(client):
    """Two members, each with a pending change of login address and the link mailed for it."""
    tokens = []
    for n in range(2):
        user = CustomerFactory().user
        confirmation = customer_services.user_email_change_request(
            user=user, new_email=f"link{n}@example.com"
        )
        tokens.append(customer_services.email_confirmation_token(confirmation.pk))
    return tokens


def reset_password(client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    # The link's GET (never limited) swaps the token for a session value and redirects.
    form = client.get(reverse("password_reset_confirm", args=[uid, token]))
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return client.post(form["Location"], data)


def privacy_links(count):
    """One-time privacy-center links a storefront asked for (apps/integration/privacy_link.py)."""
    from apps.integration.models import ApiClient
    from apps.integration.privacy_link import privacy_link_issue, privacy_link_path

    row = ApiClient.objects.create(name="storefront", system="storefront")
    return [
        privacy_link_path(link=privacy_link_issue(client=row, customer=CustomerFactory()))
        for _ in range(count)
    ]


@dataclass
class Endpoint:
    """``setup(client)`` prepares what two attempts need; ``attempt(client, ctx, n)`` is the
    n-th POST, each one that would write (or send) if it were let through."""

    scope: str
    setup: Callable
    attempt: Callable


ENDPOINTS = {
    "signup": Endpoint(
        "signup",
        lambda client: None,
        lambda client, ctx, n: (
            client.logout(),
            client.post(reverse("signup"), {**SIGNUP, "email": f"new{n}@example.com"}),
        )[1],
    ),
    "login": Endpoint(
        "login",
        lambda client: CustomerFactory().user.email,
        lambda client, email, n: client.post(
            reverse("login"), {"username": email, "password": f"wrong-{n}"}
        ),
    ),
    "admin login": Endpoint(
        "login",
        lambda client: make_staff().email,
        lambda client, email, n: client.post(
            reverse("admin:login"), {"username": email, "password": f"wrong-{n}"}
        ),
    ),
    "password reset": Endpoint(
        "password_reset",
        lambda client: [CustomerFactory().user.email for _ in range(2)],
        lambda client, emails, n: client.post(reverse("password_reset"), {"email": emails[n]}),
    ),
    "password reset confirm": Endpoint(
        "password_reset_confirm",
        lambda client: [CustomerFactory().user for _ in range(2)],
        lambda client, users, n: reset_password(client, users[n]),
    ),
    "contact": Endpoint(
        "contact",
        lambda client: None,
        lambda client, ctx, n: client.post(
            reverse("contact"),
            {**CONTACT, "email": f"ask{n}@example.com"},
        ),
    ),
    "newsletter subscribe": Endpoint(
        "newsletter_subscribe",
        lambda client: magazine(),
        lambda client, mag, n: client.post(
            reverse("marketing:subscribe"), {"email": f"reader{n}@example.com", "magazine": mag.pk}
        ),
    ),
    "newsletter confirm": Endpoint(
        "newsletter_confirm",
        lambda client: pending_subscriptions(2)[1],
        lambda client, found, n: client.post(reverse("marketing:confirm", args=[found[n][1]])),
    ),
    "unsubscribe": Endpoint(
        "unsubscribe",
        lambda client: pending_subscriptions(2)[1],
        lambda client, found, n: client.post(
            reverse("marketing:unsubscribe", args=[unsubscribe_token(found[n][0].pk)])
        ),
    ),
    "unsubscribe one-click (RFC 8058)": Endpoint(
        "unsubscribe",
        lambda client: pending_subscriptions(2)[1],
        lambda client, found, n: client.post(
            reverse("marketing:unsubscribe", args=[unsubscribe_token(found[n][0].pk)]),
            {"List-Unsubscribe": "One-Click"},
        ),
    ),
    "cookie choice": Endpoint(
        "cookie_choice",
        lambda client: None,
        lambda client, ctx, n: client.post(
            reverse("consents:cookie_choice"), {"choice": ["all", "necessary"][n]}
        ),
    ),
    "privacy request": Endpoint(
        "privacy_request",
        member,
        lambda client, customer, n: client.post(
            reverse("privacy_requests:create"),
            {"kind": [Kind.STOP_OF_USE, Kind.STOP_OF_PROVISION][n], "law": "appi"},
        ),
    ),
    "one-time code": Endpoint(
        "privacy_code",
        lambda client: request_with_code(member(client)),
        lambda client, ctx, n: client.post(
            reverse("privacy_requests:code", args=[ctx[0].reference]),
            {"code": f"{(int(ctx[1]) + 1 + n) % 10**6:06d}"},  # wrong: counts an attempt
        ),
    ),
    "e-mail change": Endpoint(
        "email_change",
        member,
        lambda client, customer, n: client.post(
            reverse("mypage:email_change"),
            {"email": f"moved{n}@example.com", "password": PASSWORD},
        ),
    ),
    "e-mail confirmation resend": Endpoint(
        "email_confirm",
        lambda client: unconfirmed_member(client),
        lambda client, customer, n: client.post(reverse("mypage:email_confirm_resend")),
    ),
    "e-mail confirmation link": Endpoint(
        "email_confirm",
        lambda client: email_change_links(client),
        lambda client, tokens, n: client.post(reverse("email_confirm", args=[tokens[n]])),
    ),
    "privacy-center link": Endpoint(
        "privacy_link",
        lambda client: privacy_links(2),
        lambda client, paths, n: client.get(paths[n]),  # redeems the link: it is used up
    ),
    "my page: profile": Endpoint(
        "mypage",
        member,
        lambda client, customer, n: client.post(
            reverse("customers:profile"),
            {"email": customer.email, "family_name": "山田", "given_name": f"次郎{n}"},
        ),
    ),
    "my page: new address": Endpoint(
        "mypage",
        member,
        lambda client, customer, n: client.post(
            reverse("customers:address_create"), {**ADDRESS, "line1": f"1-2-{n}"}
        ),
    ),
    "my page: consent": Endpoint(
        "mypage",
        member,
        lambda client, customer, n: client.post(
            reverse("consents:mypage"),
            {"purpose": "newsletter", "action": ["grant", "withdraw"][n]},
        ),
    ),
    "my page: subscription": Endpoint(
        "mypage",
        lambda client: (member(client), magazine())[1],
        lambda client, mag, n: client.post(
            reverse("marketing:mypage_subscription"),
            {"magazine": mag.pk, "action": ["subscribe", "unsubscribe"][n]},
        ),
    ),
    "my page: withdraw a request": Endpoint(
        "mypage",
        lambda client: [request_with_code(customer)[0] for customer in [member(client)] * 2],
        lambda client, requests, n: client.post(
            reverse("privacy_requests:withdraw", args=[requests[n].reference]), {"confirm": "yes"}
        ),
    ),
}


def everything_written():
    """Every row of every model of ours and of django-axes, and the mail sent. Sessions are
    left out: they are the client's own state, not something a form writes."""
    models = [
        model
        for model in apps.get_models()
        if model.__module__.startswith("apps.") or model._meta.app_label == "axes"
    ]
    rows = {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in models
        if model._meta.label != "customers.Session"
    }
    return rows, [(m.to, m.subject, m.body) for m in mail.outbox]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_write_endpoint_answers_429_over_its_limit_and_writes_nothing(client, settings, name):
    endpoint = ENDPOINTS[name]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, endpoint.scope: "1/h"}
    ctx = endpoint.setup(client)
    before = everything_written()

    with on_commit():
        first = endpoint.attempt(client, ctx, 0)
    assert first.status_code != 429
    after_first = everything_written()
    assert after_first != before, "the first attempt should write: the case proves nothing"

    with on_commit():
        second = endpoint.attempt(client, ctx, 1)
    assert second.status_code == 429
    assert int(second["Retry-After"]) > 0
    assert "too many times" in second.content.decode()
    assert everything_written() == after_first


def test_every_scope_of_the_table_has_an_endpoint_case():
    assert {endpoint.scope for endpoint in ENDPOINTS.values()} == set(django_settings.RATE_LIMITS)


# ---------------------------------------------------------------------- the URL conf


# Views that write nothing a visitor or member could repeat at will, and why.
NOT_LIMITED = {
    "healthz": "reads",
    "core:home": "reads",
    "set_language": "sets the visitor's own language cookie",
    "logout": "ends the caller's own session",
    "password_reset_done": "reads",
    "password_reset_complete": "reads",
    "consents:notice": "reads",
    "consents:versions": "reads",
    "consents:version": "reads",
    "consents:cookies": "reads",
    "mypage:overview": "reads",
    "customers:addresses": "reads",
    "orders:list": "reads",
    "orders:detail": "reads",
    "privacy_requests:list": "reads",
    "privacy_requests:detail": "reads",
    "privacy_requests:download": "reads (an expiring link to the member's own package)",
    "privacy_disclosure:download": "reads (a non-member's package, in the session its code "
    "unlocked)",
    # The mail providers' bounce and complaint reports: authenticated (basic auth, plus the
    # provider's signature where it has one) before anything is read; providers post in bursts
    # and a refused report is only sent again later.
    **{
        f"{esp}_tracking_webhook": "mail provider's webhook, authenticated"
        for esp in ("amazon_ses", "brevo", "mailgun", "postmark", "sendgrid")
    },
    # Shopify's privacy webhooks: HMAC-signed by Shopify, refused before any write otherwise
    # (a limit could drop Shopify's own deliveries, which come from many addresses).
    "shopify_webhook": "Shopify's webhook, authenticated",
    # The storefront API's index, OpenAPI schema and docs: reads, no data.
    "api:root": "reads",
    "api:schema": "reads",
    "api:docs": "reads",
}


def url_views(resolver=None, namespace=""):
    """(name, view) for every URL of the site; the staff admin's as one ("admin")."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                yield "admin", pattern
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_views(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", pattern.callback


def test_every_scope_of_the_table_guards_a_url_and_every_writing_view_is_limited():
    from django.contrib import admin

    scopes, unguarded = set(), []
    for name, view in url_views():
        if name == "admin":
            scopes.add(admin.site.login.rate_limit_scope)  # staff pages need a staff login
            continue
        scope = getattr(view, "rate_limit_scope", None)
        if scope is not None:
            scopes.add(scope)
        elif ClientRateThrottle in getattr(getattr(view, "cls", None), "throttle_classes", ()):
            continue  # an API resource: limited per API client (ApiClient.rate_limit)
        elif name not in NOT_LIMITED:
            unguarded.append(name)
    assert unguarded == [], "limit these views, or list them in NOT_LIMITED with a reason"
    assert scopes == set(django_settings.RATE_LIMITS)


def test_member_limits_count_per_member_not_per_shared_address(settings):
    """Members behind one carrier address do not use up each other's My Page limit."""
    from django.test import Client

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "mypage": "1/h"}
    url = reverse("consents:mypage")
    first, second = Client(), Client()
    member(first), member(second)
    assert first.post(url, {"purpose": "newsletter", "action": "grant"}).status_code == 302
    assert first.post(url, {"purpose": "newsletter", "action": "grant"}).status_code == 429
    assert second.post(url, {"purpose": "newsletter", "action": "grant"}).status_code == 302
