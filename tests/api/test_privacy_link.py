"""The privacy-center link: a one-time URL from the storefront's API call that opens My Page's
privacy pages, and only those, for the person the client brought, without a password."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from apps.customers.models import Customer
from apps.customers.privacy_center import SESSION_KEY
from apps.integration.models import ApiCallLog, ExternalCustomer, IdempotencyRecord, PrivacyLink
from apps.privacy_requests.models import Channel
from apps.privacy_requests.services import privacy_request_create
from tests.factories import CustomerFactory, GuestFactory, make_staff

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVACY_PRIVATE_ROOT = tmp_path / "private"


def _brought(row, customer, external_id="shop-1"):
    return ExternalCustomer.objects.create(client=row, external_id=external_id, customer=customer)


def _request_of(customer):
    return privacy_request_create(
        kind="stop_of_use", channel=Channel.POSTAL_MAIL, customer=customer,
        requester_name="x", requester_email=customer.email or "x@example.com",
    )  # fmt: skip


def _link(http, external_id="shop-1", **headers):
    response = http.post(f"/api/v1/customers/{external_id}/privacy-link", **headers)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def storefront(make_api):
    row, http = make_api(scopes=["requests:write"])
    guest = GuestFactory()  # a storefront member: no login here
    _brought(row, guest)
    return row, http, guest


def _open(url) -> Client:
    browser = Client()
    response = browser.get(url.removeprefix(SITE))
    assert response.status_code == 302 and response["Location"] == "/mypage/privacy/"
    return browser


# ------------------------------------------------------------------ issuing


def test_the_link_is_a_short_lived_url_whose_token_is_stored_nowhere(storefront, settings):
    settings.PRIVACY_LINK_TTL_MINUTES = 10
    row, http, guest = storefront
    answer = _link(http, HTTP_IDEMPOTENCY_KEY="open-1")
    assert answer["url"].startswith(f"{SITE}/privacy-center/")
    token = answer["url"].rstrip("/").rsplit("/", 1)[1]
    expires = datetime.datetime.fromisoformat(answer["expires_at"])
    assert (
        datetime.timedelta(minutes=9) < expires - timezone.now() <= datetime.timedelta(minutes=10)
    )
    link = PrivacyLink.objects.get(pk=answer["id"])
    assert (link.client, link.customer, link.used_at) == (row, guest, None)
    stored = json.dumps(
        [list(PrivacyLink.objects.values()), list(IdempotencyRecord.objects.values("response"))],
        default=str,
    )
    assert token not in stored and link.token_hash != token
    assert ApiCallLog.objects.get(client_id=row.pk).object_ids == [str(guest.pk), str(link.pk)]


def test_a_repeat_with_the_same_idempotency_key_gives_the_same_link(storefront):
    _row, http, _guest = storefront
    first = _link(http, HTTP_IDEMPOTENCY_KEY="open-2")
    again = _link(http, HTTP_IDEMPOTENCY_KEY="open-2")
    assert again == first and PrivacyLink.objects.count() == 1
    assert _link(http)["url"] != first["url"]  # without the key: a new link


def test_an_unknown_person_is_404_an_erased_one_409_and_the_scope_is_needed(make_api):
    row, http = make_api(scopes=["requests:write"])
    _brought(row, GuestFactory(status=Customer.Status.ERASED), "gone")
    assert http.post("/api/v1/customers/nobody/privacy-link").status_code == 404
    erased = http.post("/api/v1/customers/gone/privacy-link")
    assert erased.status_code == 409 and "erased" in erased.json()["detail"]
    other_row, other = make_api(name="reader", scopes=["requests:read", "customers:write"])
    _brought(other_row, GuestFactory())
    assert other.post("/api/v1/customers/shop-1/privacy-link").status_code == 403
    # Another client's person is nobody to this one.
    assert http.post("/api/v1/customers/shop-1/privacy-link").status_code == 404
    assert not PrivacyLink.objects.exists()


# ------------------------------------------------------------------ the link


def test_the_link_opens_the_privacy_pages_once(storefront):
    _row, http, guest = storefront
    mine = _request_of(guest)
    url = _link(http)["url"]
    browser = _open(url)
    assert browser.session[SESSION_KEY]["customer_id"] == guest.pk
    assert PrivacyLink.objects.get().used_at is not None
    assert browser.get("/mypage/privacy/").status_code == 200
    listing = browser.get("/mypage/requests/")
    assert listing.status_code == 200 and mine.reference in listing.content.decode()
    assert browser.get(f"/mypage/requests/{mine.reference}/").status_code == 200

    again = Client().get(url.removeprefix(SITE))
    assert again.status_code == 404 and SESSION_KEY not in again.client.session


def test_an_expired_or_tampered_token_is_404_and_changes_nothing(storefront):
    _row, http, _guest = storefront
    url = _link(http)["url"].removeprefix(SITE)
    tampered = url[:-3] + ("0" if url[-3] != "0" else "1") + url[-2:]
    for bad in (tampered, "/privacy-center/not-a-token/", "/privacy-center/" + "0" * 64 + "/"):
        response = Client().get(bad)
        assert response.status_code == 404 and "does not work" in response.content.decode()
    PrivacyLink.objects.update(expires_at=timezone.now())
    response = Client().get(url)
    assert response.status_code == 404 and SESSION_KEY not in response.client.session
    assert PrivacyLink.objects.get().used_at is None


@pytest.mark.parametrize(
    "path",
    ["/mypage/", "/mypage/profile/", "/mypage/addresses/", "/mypage/addresses/new/",
     "/mypage/orders/", "/mypage/email/", "/mypage/requests/new/"],
)  # fmt: skip
def test_every_other_page_answers_as_if_logged_out(storefront, path):
    _row, http, _guest = storefront
    browser = _open(_link(http)["url"])
    response = browser.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert browser.post(path, {"family_name": "x"}).status_code in (302, 403, 404, 405)


def test_the_admin_is_closed(storefront):
    _row, http, _guest = storefront
    browser = _open(_link(http)["url"])
    response = browser.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_withdrawing_a_request_needs_a_login(storefront):
    _row, http, guest = storefront
    mine = _request_of(guest)
    browser = _open(_link(http)["url"])
    response = browser.post(f"/mypage/requests/{mine.reference}/withdraw/", {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    mine.refresh_from_db()
    assert mine.status == "received"


def test_a_second_persons_data_is_never_visible(storefront):
    row, http, _guest = storefront
    other = CustomerFactory()
    _brought(row, other, "shop-2")
    theirs = _request_of(other)
    browser = _open(_link(http)["url"])
    assert theirs.reference not in browser.get("/mypage/requests/").content.decode()
    assert browser.get(f"/mypage/requests/{theirs.reference}/").status_code == 404
    page = browser.get("/mypage/privacy/").content.decode()
    assert other.email not in page and other.given_name not in page


def test_a_consent_withdrawn_in_the_privacy_center_is_the_persons(storefront):
    from apps.consents.selectors import consent_states_for

    _row, http, guest = storefront
    browser = _open(_link(http)["url"])
    response = browser.post("/mypage/privacy/", {"purpose": "newsletter", "action": "withdraw"})
    assert response.status_code == 302
    states = {
        state.purpose.code: state.status for state in consent_states_for(customer=guest).values()
    }
    assert states["newsletter"] == "withdrawn"


def test_the_session_ends_after_its_time_and_when_the_person_is_erased(storefront, settings):
    _row, http, guest = storefront
    browser = _open(_link(http)["url"])
    session = browser.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "ends": timezone.now().timestamp() - 1}
    session.save()
    assert browser.get("/mypage/privacy/").status_code == 302

    browser = _open(_link(http)["url"])
    Customer.objects.filter(pk=guest.pk).update(status=Customer.Status.ERASED)
    assert browser.get("/mypage/privacy/").status_code == 302


def test_a_link_opened_where_someone_is_logged_in_logs_them_out_first(storefront):
    _row, http, guest = storefront
    member = CustomerFactory()
    browser = Client()
    browser.force_login(member.user)
    assert browser.get("/mypage/profile/").status_code == 200
    response = browser.get(_link(http)["url"].removeprefix(SITE))
    assert response.status_code == 302
    assert browser.get("/mypage/profile/").status_code == 302  # the member is logged out
    assert browser.session[SESSION_KEY]["customer_id"] == guest.pk


def test_a_staff_login_is_not_kept_either(storefront):
    _row, http, _guest = storefront
    browser = Client()
    browser.force_login(make_staff())
    browser.get(_link(http)["url"].removeprefix(SITE))
    assert browser.get("/admin/").status_code == 302


def test_no_token_reaches_the_log(storefront, caplog):
    _row, http, _guest = storefront
    caplog.set_level("DEBUG")
    logged_in = Client()
    logged_in.force_login(CustomerFactory().user)
    url = _link(http)["url"].removeprefix(SITE)
    logged_in.get(url)  # used, with a login to end
    Client().get(url)  # used again: 404
    Client().get(url[:-3] + "abc/")  # tampered: 404
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert caplog.records
    assert not [r.getMessage() for r in caplog.records if token[:40] in r.getMessage()]
