"""Junk input of any shape, to every endpoint the URL conf has, never answers 500 and never
writes a row (issue 10, item 6).

The endpoints are walked from ``get_resolver().url_patterns`` (includes and the admin site
too), so a new view is covered without touching this file; a URL parameter this file cannot
fill fails `test_every_url_parameter_has_a_value` until `World.param` learns it. Each endpoint
is hit as the visitor who can reach its code: public and My Page URLs as an anonymous visitor
and as a member whose own objects fill the parameters (order number, address, request
reference, tokens); admin URLs as a superuser, whose rows fill theirs (changelists, add/change
views, custom admin views, and the actions with junk selections and junk action forms).

Junk is: integers of 10,000 digits and past 64 bits, NUL bytes, 1 MB values, repeated keys,
wrong types, files where text is expected, raw bodies that are no form at all, and junk in the
query string and in the URL parameters. The names posted are those the page shows (inputs,
buttons) plus the ones views read from links. Every endpoint also gets every name at once as
a NUL byte and as a 10,000-digit number. Each request runs in a savepoint, so one failure
cannot hide the next, and a digest of every table's rows is compared before and after it;
the only writes allowed are listed in UNCHECKED_TABLES, and an admin model form that says it
saved (free text is valid input there: a contractor may be called "0").

Run it against PostgreSQL (`scripts/with_services.py`, as `make test` does): SQLite stores
NUL bytes that PostgreSQL refuses.
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import import_module
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, Phase, given
from hypothesis import example as hypothesis_example
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------- junk


class Big(str):
    """A long junk value that reports itself in a line, not in a megabyte of output."""

    def __new__(cls, value, label):
        self = super().__new__(cls, value)
        self.label = label
        return self

    def __repr__(self):
        return self.label


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
NUMBERS = st.one_of(
    st.sampled_from(
        [Big("9" * 10_000, "'9' * 10_000"), Big("-" + "9" * 5_000, "'-' + '9' * 5_000"),
         str(2**63), str(-(2**63) - 1), str(2**31), "1e309", "-1", "0", "NaN", "Infinity"]
    ),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
)  # fmt: skip
NUL = st.tuples(TEXT, TEXT).map(lambda pair: f"{pair[0]}\x00{pair[1]}")
WRONG_TYPES = st.sampled_from(
    ["", " ", "abc", "true", "on", "null", "[]", "{}", "2026-02-30", "9999-99-99 25:61",
     "<script>alert(1)</script>", "'; DROP TABLE x; --", "〒123-45678", "4242 4242 4242 4242",
     "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "a@b", "../../etc/passwd", "%00", "javascript:alert(1)",
     "//evil.example/", "\u202egnp.exe", "\r\nBcc: x@example.com", "١٢٣", "²", "１２３", "ã"]
)  # fmt: skip
MEGABYTE = st.just(Big("x" * 1_000_000, "'x' * 1_000_000"))
# A query string is not where a megabyte comes from (servers cap the request line).
QUERY_SCALAR = st.one_of(TEXT, NUMBERS, NUL, WRONG_TYPES)
SCALAR = st.one_of(QUERY_SCALAR, QUERY_SCALAR, MEGABYTE)
FILE = st.builds(
    SimpleUploadedFile,
    st.sampled_from(["a.txt", "scan.pdf", "../../x.png", "a" * 300 + ".jpg"]),
    st.binary(max_size=300),
    st.sampled_from(["text/plain", "application/pdf", "image/png", "application/x-msdownload"]),
)
# deferred: a short repr (hypothesis describes a strategy by its repr, and this one's is long).
VALUE = st.deferred(
    lambda: st.one_of(SCALAR, SCALAR, SCALAR, st.lists(SCALAR, min_size=2, max_size=3), FILE)
)
RAW_BODY = st.tuples(
    st.binary(max_size=2000) | st.sampled_from([b"%%%=&&=%zz", b"a=%00", b"\x00" * 100]),
    st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
         "multipart/form-data", "application/json", "text/plain; charset=bogus"]
    ),
)  # fmt: skip
NUL_EVERYWHERE = "1\x00"
HUGE_EVERYWHERE = Big("9" * 10_000, "'9' * 10_000")
URL_PARAM = st.one_of(NUMBERS, NUL, WRONG_TYPES, TEXT.filter(bool), st.just("x" * 5000))

# Names views read besides the ones their pages show (hidden inputs of other pages, links).
EXTRA_NAMES = ["next", "kind", "action", "confirm", "purpose", "magazine", "name", "q", "o", "p",
               "e", "back_to_request", "List-Unsubscribe", "_changelist_filters", "apply",
               "language", "token", "code", "email", "password", "username"]  # fmt: skip
NAME = re.compile(r'<(?:input|select|textarea|button)\b[^>]*\bname="([^"]+)"')
ACTION_SELECT = re.compile(r'<select name="action"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')

# ---------------------------------------------------------------------- the endpoints

PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route


def routes() -> list[str]:
    """Every URL pattern of the project, e.g. "mypage/orders/<str:number>/"."""
    return sorted(set(_walk(get_resolver().url_patterns)))


def params(route: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in PARAM.finditer(route)]


def is_admin(route: str) -> bool:
    return route.startswith("admin/")


# POSTs that do their one thing whatever the body says, by design: the URL names the object
# and the POST is the command (a button without fields). Their junk POSTs go to a URL that
# names nothing (a tampered token, a missing row); GET gets the real one.
POST_IS_THE_COMMAND = {
    # The signed token is the credential; RFC 8058 one-click clients post a fixed body.
    "newsletter/unsubscribe/<text:token>/": "token",
    # The delete and make-default buttons of an address.
    "mypage/addresses/<int:pk>/delete/": "pk",
    "mypage/addresses/<int:pk>/default/": "pk",
    # The signed link is the credential; its form has no fields (the CSRF-checked button).
    "accounts/email/confirm/<text:token>/": "token",
}

# Rows that junk may write, by design, and why.
UNCHECKED_TABLES = {
    # Each example logs in afresh (a session row); logout endpoints delete it.
    "customers_session": "sessions",
    "django_session": "sessions",
    # A junk login is a failed login: axes counts it toward the lockout.
    "axes_accessattempt": "login failures",
    "axes_accessfailurelog": "login failures",
    "axes_accesslog": "login failures",
    # Staff opening a page of personal data is recorded, junk in the request or not.
    "audit_accesslog": "access log",
}


# Buttons without fields that name no object in their URL: any POST is the command, and there is
# no URL that names nothing to send junk to. Fuzzed with GET only, like Django's delete page.
GET_ONLY_COMMANDS = {
    "mypage/email/resend/": "mails the member a fresh confirmation link",
}


def _get_only(route: str) -> bool:
    """Django's delete confirmation deletes on any non-empty POST (its only input is "yes"):
    fuzzed with GET and junk URL parameters only; so are GET_ONLY_COMMANDS."""
    return (is_admin(route) and route.endswith("<path:object_id>/delete/")) or (
        route in GET_ONLY_COMMANDS
    )


# ---------------------------------------------------------------------- the world


class World:
    """A member with one of everything a URL can name, and a superuser."""

    def __init__(self):
        from django_celery_beat.models import ClockedSchedule, IntervalSchedule, SolarSchedule

        from apps.audit.services import access_log_record, staff_otp_device_create
        from apps.consents import services as consent_services
        from apps.consents.models import Contractor, ExternalTag, PolicyVersion, ReceiptRecord
        from apps.customers import services as customer_services
        from apps.customers.models import Customer, User
        from apps.demo.services import MEMBER_EMAIL, demo_seed
        from apps.incidents.models import Incident
        from apps.marketing.mail import unsubscribe_token
        from apps.marketing.models import Subscription
        from apps.marketing.services import suppression_add
        from apps.privacy_requests import services as request_services
        from apps.privacy_requests.models import Channel, DisclosureForm, IdentityDocument, Kind
        from tests.privacy_requests.conftest import PDF

        demo_seed(crowd=0)
        self.member = Customer.objects.get(email=MEMBER_EMAIL)
        self.superuser = User.objects.get(email="admin@example.com")
        self.address = self.member.addresses.order_by("pk").first()
        self.order = self.member.orders.order_by("pk").first()
        self.subscription = Subscription.objects.get(customer=self.member)
        self.unsubscribe_token = unsubscribe_token(self.subscription.pk)
        self.privacy_request = request_services.privacy_request_create_from_mypage(
            customer=self.member,
            kind=Kind.DISCLOSURE,
            disclosure_form=DisclosureForm.ELECTRONIC,
            language="ja",
        )
        self.download_token = request_services.download_token(privacy_request=self.privacy_request)
        # A request by post from someone without e-mail, with a scanned document: its notices
        # are letters, and the admin's document and letter pages have something to show.
        self.letter_request = request_services.privacy_request_create(
            kind=Kind.ERASURE, channel=Channel.POSTAL_MAIL, customer=self.member,
            requester_name="山田 花子", requester_postal_address="〒150-0001 東京都渋谷区神宮前1-2-3",
            by=self.superuser,
        )  # fmt: skip
        request_services.privacy_request_start_verification(
            privacy_request=self.letter_request, by=self.superuser
        )
        self.document = request_services.identity_document_add(
            privacy_request=self.letter_request,
            purpose=IdentityDocument.Purpose.IDENTITY,
            document_type=IdentityDocument.DocumentType.PASSPORT,
            upload=SimpleUploadedFile("id.pdf", PDF),
            by=self.superuser,
        )
        self.letter = self.letter_request.notices.order_by("pk").first()
        self.policy = PolicyVersion.objects.filter(published_at__isnull=False).first()
        self.inquiry = customer_services.inquiry_create(
            name="山田 花子", email=MEMBER_EMAIL, topic="privacy", message="開示を希望します。",
            customer=self.member,
        )  # fmt: skip
        contractor = Contractor.objects.create(
            name="配送会社", address="東京都", data_items="氏名、住所", purpose="配送",
            safeguards="委託契約",
        )  # fmt: skip
        consent_services.provision_record_create(
            customers=[self.member], recipient_name="提携先", recipient_address="大阪府",
            data_items="氏名", basis="consignment", contractor=contractor,
        )  # fmt: skip
        receipt = ReceiptRecord.objects.create(
            provider_name="提供元", provider_address="京都府", how_acquired="本人から",
            data_items="氏名",
        )  # fmt: skip
        receipt.customers.add(self.member)
        ExternalTag.objects.create(
            name="Analytics", recipient="Example Inc. (US)", data_sent="page views",
            purpose="statistics", category="analytics",
        )  # fmt: skip
        Incident.objects.create(
            title="誤送信", description="メールの誤送信", people_affected=1,
            discovered_at=timezone.now(),
        )  # fmt: skip
        # One row in each admin list that would be empty otherwise, so its change page opens.
        staff_otp_device_create(user=self.superuser)
        suppression_add(reason="bounced", address="bounced@example.com")
        access_log_record(staff_user_id=self.superuser.pk, action="view",
                          model_label="customers.Customer", object_ids=[self.member.pk])  # fmt: skip
        IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
        ClockedSchedule.objects.create(clocked_time=timezone.now())
        SolarSchedule.objects.create(event="sunrise", latitude=35.68, longitude=139.76)
        self.uidb64 = urlsafe_base64_encode(force_bytes(self.member.user.pk))
        self.reset_token = default_token_generator.make_token(self.member.user)
        # A pending change of the member's login address, and the link mailed for it.
        confirmation = customer_services.user_email_change_request(
            user=self.member.user, new_email="moved-here@example.com"
        )
        self.email_confirm_token = customer_services.email_confirmation_token(confirmation.pk)

    def param(self, route: str, name: str, *, for_post: bool = False) -> str:
        """A value for one URL parameter that resolves to a real object of the caller."""
        if is_admin(route):
            return self._admin_param(route, name)
        by_route = {
            # A non-member's disclosure link (before "/download/", which its path also holds).
            ("disclosure/", "token"): "no-such-link",
            ("newsletter/unsubscribe/", "token"): self.unsubscribe_token,
            ("newsletter/confirm/", "token"): "no-such-confirmation",
            ("/download/", "token"): self.download_token,
            ("accounts/password/reset/", "uidb64"): self.uidb64,
            ("accounts/password/reset/", "token"): self.reset_token,
            ("accounts/email/confirm/", "token"): self.email_confirm_token,
            ("privacy-center/", "token"): "no-such-link",
        }
        for (part, param_name), value in by_route.items():
            if part in route and name == param_name:
                if for_post and POST_IS_THE_COMMAND.get(route) == name:
                    return value[:-3] + "xyz"  # tampered
                return value
        by_name = {
            "number": self.order.number,
            "reference": self.privacy_request.reference,
            "version": self.policy.version,
            "pk": self.address.pk,  # mypage/addresses/<int:pk>/...
            # api/v1/customers/<path:external_id>/: a client's own id (the API needs a key).
            "external_id": "C-10001",
            # api/v1/propagations/<int:task_id>/confirm: a task id (the API needs a key).
            "task_id": 1,
        }
        if for_post and POST_IS_THE_COMMAND.get(route) == name:
            return "999999999"  # nobody's
        if name in by_name:
            return str(by_name[name])
        raise KeyError(f"no value for <{name}> in {route}: teach World.param")

    def _admin_param(self, route: str, name: str) -> str:
        model = _admin_model(route)
        if "/documents/" in route or "/notices/" in route:
            by_name = {
                "pk": self.letter_request.pk,
                "document_pk": self.document.pk,
                "notice_pk": self.letter.pk,
            }
            return str(by_name[name])
        if name in ("object_id", "pk", "id") and model is not None:
            instance = model._default_manager.order_by("pk").first()
            return str(instance.pk if instance is not None else 1)
        by_name = {
            "app_label": "customers",
            "content_type_id": ContentType.objects.get_for_model(self.member).pk,
            "object_id": self.member.pk,  # admin/r/<content_type_id>/<object_id>/
            "url": "no-such-page/",
            "customer_id": self.member.pk,
        }
        if name in by_name:
            return str(by_name[name])
        raise KeyError(f"no value for <{name}> in {route}: teach World._admin_param")


def _admin_model(route: str):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match is None:
        return None
    try:
        return apps.get_model(match.group(1), match.group(2))
    except LookupError:
        return None


def url(route: str, values: dict[str, str]) -> str:
    return "/" + PARAM.sub(lambda m: quote(str(values[m.group(1) or m.group(2)]), safe=""), route)


# ---------------------------------------------------------------------- rows and clients


def table_rows() -> dict[str, str]:
    """A digest of every row of every table but the UNCHECKED ones (on PostgreSQL in one
    statement: it runs after every request)."""
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor)
                  if t not in UNCHECKED_TABLES]  # fmt: skip
        quote_name = connection.ops.quote_name
        if connection.vendor == "postgresql":
            digest = "md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), ''))"
            # Table names from the database's own catalogue, not from input.
            selects = [f"SELECT %s, {digest} FROM {quote_name(t)} r" for t in tables]  # noqa: S608
            cursor.execute(" UNION ALL ".join(selects), tables)
            return dict(cursor.fetchall())
        digests = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote_name(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digests


def logged_in_client(user) -> Client:
    """A client with a session for `user`, made without the login signal (which writes
    last_login): every example starts logged in, whatever the one before did."""
    client = Client()
    if user is None:
        return client
    session = import_module(django_settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def accepted(response) -> bool:
    """The admin said it saved: a valid model form (free text is valid input there)."""
    storage = getattr(response.wsgi_request, "_messages", None)
    return any(m.level == messages.SUCCESS for m in (storage or []))


class Run:
    """Sends one request per call inside a savepoint; records what went wrong."""

    def __init__(self, world):
        self.world = world
        self.failures: list[str] = []
        self.requests = 0
        self.accepted = 0
        self.names: dict[tuple, list[str]] = {}
        self.before = table_rows()

    def send(self, user, method, path, *, data=None, raw=None, route=""):
        self.requests += 1
        with transaction.atomic():
            client = logged_in_client(user)
            where = f"{method} {path[:120]!s} as {user or 'anonymous'}"
            try:
                if raw is not None:
                    response = client.generic(method, path, raw[0], content_type=raw[1])
                elif method == "GET":
                    response = client.get(path, data or {})
                else:
                    response = client.post(path, data or {})
                if response.streaming:  # a CSV or a file: its rows are read as it is sent
                    b"".join(response.streaming_content)
            except Exception as exc:  # the failure this test exists to find
                self.failures.append(f"{where}: {type(exc).__name__}: {str(exc)[:200]}")
                transaction.set_rollback(True)
                return None
            # (503 is no crash: django-otp's QR code page without the qrcode package, /healthz
            # without a database.)
            if response.status_code == 500:
                self.failures.append(f"{where}: {response.status_code}")
            elif method == "POST" and is_admin(route) and accepted(response):
                self.accepted += 1  # a valid admin form, not junk: it may write
            elif table_rows() != self.before:
                changed = [t for t, d in table_rows().items() if self.before.get(t) != d]
                self.failures.append(f"{where}: wrote to {changed}")
            transaction.set_rollback(True)
            return response

    def names_for(self, user, route, path) -> list[str]:
        """The input names the page shows this user, plus names views read from links."""
        key = (getattr(user, "pk", None), path)
        if key not in self.names:
            response = self.send(user, "GET", path, route=route)
            streaming = response is None or response.streaming
            html = "" if streaming else response.content.decode(errors="replace")
            self.names[key] = sorted(set(NAME.findall(html)) | set(EXTRA_NAMES))
            self.names[(*key, "actions")] = sorted(
                set(OPTION.findall("".join(ACTION_SELECT.findall(html)))) - {""}
            )
        return self.names[key]


# More random examples per endpoint for a longer search: JUNK_INPUT_SCALE=10 make test.
SCALE = int(os.environ.get("JUNK_INPUT_SCALE", "1"))
HYPOTHESIS = {
    "deadline": None,
    # No shrinking: a failure is reported as sent, and the run goes on to the next endpoint.
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}


def fuzz_endpoint(run: Run, user, route: str, *, examples: int):
    values = {name: run.world.param(route, name) for name in params(route)}
    post_values = {name: run.world.param(route, name, for_post=True) for name in params(route)}
    path, post_path = url(route, values), url(route, post_values)
    names = run.names_for(user, route, path)
    actions = run.names.get((getattr(user, "pk", None), path, "actions"), [])
    may_post = not _get_only(route)

    def example(query, form, raw, action):
        run.send(user, "GET", path, data=query, route=route)
        if not may_post:
            return
        if action:  # an admin action on a junk selection, with a junk action form
            form = {**form, "action": action, "index": form.get("index", "0")}
            form.pop("select_across", None)  # a ticked "all" would be a valid command
            form["_selected_action"] = form.get("_selected_action") or "no-such-row"
            if not _junk_selection(form["_selected_action"]):
                form["_selected_action"] = "999999999"
        run.send(user, "POST", post_path, data=form, raw=raw if not action else None, route=route)

    test = given(
        query=st.dictionaries(
            st.sampled_from(names), QUERY_SCALAR | st.lists(QUERY_SCALAR, max_size=3)
        ),
        form=st.fixed_dictionaries({}, optional=dict.fromkeys(names, VALUE)),
        raw=st.none() | RAW_BODY,
        action=st.none() | st.sampled_from(actions or [""]),
    )(example)
    # Besides the random ones, every endpoint gets each name at once as a NUL byte and as a
    # 10,000-digit number: the two 500s of the issue, whichever name a view reads by hand.
    for junk in (NUL_EVERYWHERE, HUGE_EVERYWHERE):
        everywhere = dict.fromkeys(names, junk)
        test = hypothesis_example(query=everywhere, form=everywhere, raw=None, action=None)(test)
    hypothesis_settings(max_examples=examples * SCALE, **HYPOTHESIS)(test)()


def _junk_selection(value) -> bool:
    """A selection that names no existing row (the actions work on real rows otherwise)."""
    values = value if isinstance(value, list) else [value]
    for one in values:
        if isinstance(one, SimpleUploadedFile):
            continue
        try:
            if int(str(one).strip()) < 10**6:
                return False
        except ValueError:
            continue
    return True


@pytest.fixture
def world(settings, tmp_path):
    # Let every example reach the view, not the rate limiter or the lockout.
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "1000000/h")
    settings.AXES_FAILURE_LIMIT = 1_000_000
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


# ---------------------------------------------------------------------- the tests


def test_every_url_parameter_has_a_value(world):
    """A new URL parameter fails here until World.param can fill it (else it would be
    skipped silently); the skip-lists name only routes that exist."""
    found = routes()
    assert len(found) > 100, found  # the admin is in the walk
    for route in found:
        for name in params(route):
            assert world.param(route, name), route
    for route in [*POST_IS_THE_COMMAND, *GET_ONLY_COMMANDS]:
        assert route in found, route


def test_the_fuzzing_clients_are_logged_in(world):
    """Else the member and admin runs would only ever see the login page, and pass."""
    assert logged_in_client(world.member.user).get("/mypage/").status_code == 200
    assert logged_in_client(world.superuser).get("/admin/").status_code == 200
    assert logged_in_client(None).get("/mypage/").status_code == 302


def test_junk_to_every_public_and_member_endpoint(world):
    run = Run(world)
    for route in routes():
        if is_admin(route):
            continue
        for user in (None, world.member.user):
            fuzz_endpoint(run, user, route, examples=4)
    assert not run.failures, "\n".join(run.failures)


def test_junk_to_every_admin_endpoint(world):
    run = Run(world)
    fuzz_endpoint(run, None, "admin/login/", examples=4)
    for route in routes():
        if is_admin(route):
            fuzz_endpoint(run, world.superuser, route, examples=1)
    assert not run.failures, "\n".join(run.failures)
    assert run.accepted < run.requests / 10, "junk should rarely be a valid admin form"


def fuzz_url_parameters(run: Run, user, route: str, *, examples: int):
    @hypothesis_settings(max_examples=examples * SCALE, **HYPOTHESIS)
    @given(junk=st.fixed_dictionaries(dict.fromkeys(params(route), URL_PARAM)))
    def example(junk):
        path = url(route, junk)
        run.send(user, "GET", path, route=route)
        if not _get_only(route):
            run.send(user, "POST", path, data={"next": "/"}, route=route)

    example()


def test_junk_in_every_url_parameter(world):
    run = Run(world)
    for route in routes():
        if params(route):
            user = world.superuser if is_admin(route) else world.member.user
            fuzz_url_parameters(run, user, route, examples=2)
    assert not run.failures, "\n".join(run.failures)


# ---------------------------------------------------------------------- found before

LONG_EMAIL = "a" * 64 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "@example.com"


@pytest.fixture
def member(settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/h")
    return CustomerFactory()


def test_a_valid_but_overlong_email_is_a_signup_error_not_a_500(client, member):
    """RFC-valid addresses can be longer than the 254 characters our columns hold."""
    assert len(LONG_EMAIL) > 254
    before = table_rows()
    signup = client.post(
        reverse("signup"),
        {"email": LONG_EMAIL, "password1": "sakura-blossom-2026",
         "password2": "sakura-blossom-2026", "family_name": "鈴木", "given_name": "一郎",
         "family_name_kana": "スズキ", "given_name_kana": "イチロウ"},
    )  # fmt: skip
    assert signup.status_code == 200, signup.status_code
    assert "email" in signup.context["form"].errors
    assert table_rows() == before


def test_a_valid_but_overlong_email_is_a_profile_error_not_a_500(client, member):
    client.force_login(member.user)
    before = table_rows()
    profile = client.post(
        reverse("mypage:email_change"), {"email": LONG_EMAIL, "password": PASSWORD}
    )
    assert profile.status_code == 200, profile.status_code
    assert "email" in profile.context["form"].errors
    assert table_rows() == before
