"""Real Chromium at 390 px (a phone) and 1280 px over every member page: nothing sticks out of
its container and nothing scrolls sideways, the consent page's buttons and tables do not wrap
one character per line, the cookie banner takes at most a quarter of the screen and leaves a
form's send button visible, links meet WCAG AA contrast, and the skip link and favicon work."""

import pytest

from apps.consents.models import Purpose, Source
from apps.consents.services import Evidence, consent_grant
from apps.orders.services import LineItem, PaymentInput, order_place
from apps.privacy_requests.models import Kind
from tests.browser.member_pages import (
    LINK_COLOURS_JS,
    NARROW_TEXT_JS,
    OVERFLOWS_JS,
    PHONE,
    browser_page,
    contrast,
    logged_in,
)
from tests.factories import AddressFactory, CustomerFactory, ProductFactory
from tests.privacy_requests.conftest import make_request

pytestmark = [pytest.mark.browser]

PUBLIC_PAGES = [
    "/",
    "/contact/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/privacy/",
    "/privacy/versions/",
    "/privacy/cookies/",
]
CONSENT_TEXTS = (
    "#consents button, #consents th, #consents td, #consent-history th, #consent-history td"
)


@pytest.fixture
def member(live_server):
    """A member with an address, an order, a request waiting for its fee and some answers."""
    customer = CustomerFactory(family_name="山田", given_name="花子")
    address = AddressFactory(customer=customer, is_default=True)
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory(name="有機抹茶 ギフトセット 30g×3", price=2400).pk, 2)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    newsletter = Purpose.objects.get(code="newsletter")
    consent_grant(
        purpose=newsletter, source=Source.MYPAGE, customer=customer,
        evidence=Evidence(wording="メールマガジンを受け取る"),
    )  # fmt: skip
    request = make_request(customer, kind=Kind.DISCLOSURE, channel="mypage")
    customer.pages = [
        "/mypage/",
        "/mypage/profile/",
        "/mypage/email/",
        "/mypage/addresses/",
        "/mypage/addresses/new/",
        f"/mypage/addresses/{address.pk}/edit/",
        "/mypage/privacy/",
        "/mypage/orders/",
        f"/mypage/orders/{order.number}/",
        "/mypage/requests/",
        "/mypage/requests/new/",
        f"/mypage/requests/{request.reference}/",
    ]
    return customer


def test_every_member_page_fits_a_phone(live_server, member):
    found = {}
    with browser_page(width=PHONE["width"]) as page:
        for path in PUBLIC_PAGES:
            page.goto(f"{live_server.url}{path}")
            found[path] = page.evaluate(OVERFLOWS_JS)
        logged_in(page, live_server, member)
        for path in member.pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            found[path] = page.evaluate(OVERFLOWS_JS)
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.parametrize("width", [1280, PHONE["width"]])
def test_the_consent_page_does_not_wrap_one_character_per_line(live_server, member, width):
    with browser_page(width=width) as page:
        logged_in(page, live_server, member)
        page.goto(f"{live_server.url}/mypage/privacy/")
        assert page.locator("#consents button").count() > 0
        assert page.locator("#consent-history td").count() > 0
        narrow = page.evaluate(NARROW_TEXT_JS, CONSENT_TEXTS)
        assert not narrow, narrow
        overflows = page.evaluate(OVERFLOWS_JS)
        assert not overflows, overflows


COVERED_JS = """(selector) => {
  const button = document.querySelector(selector);
  button.scrollIntoView({block: "end", behavior: "instant"});  // Bootstrap scrolls smoothly
  const r = button.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit === button || button.contains(hit) ? null : (hit ? hit.outerHTML.slice(0, 80) : "nothing");
}"""


def test_the_cookie_banner_on_a_phone_is_small_and_never_covers_a_send_button(live_server, member):
    with browser_page(width=PHONE["width"]) as page:
        page.goto(f"{live_server.url}/contact/")
        banner = page.locator("#cookie-banner")
        assert banner.is_visible()
        assert banner.bounding_box()["height"] <= PHONE["height"] / 4
        # Its own buttons are within reach without scrolling it.
        for value in ("necessary", "all"):
            assert page.locator(f"#cookie-banner button[value={value}]").is_visible()
        covered = {}
        for path in ("/contact/", "/accounts/signup/", "/accounts/login/"):
            page.goto(f"{live_server.url}{path}")
            covered[path] = page.evaluate(COVERED_JS, "main form [type=submit]")
        logged_in(page, live_server, member)
        for path in ("/mypage/profile/", "/mypage/requests/new/", "/mypage/addresses/new/"):
            page.goto(f"{live_server.url}{path}")
            assert page.locator("#cookie-banner").is_visible()
            covered[path] = page.evaluate(COVERED_JS, "main form [type=submit]")
    assert {path: hit for path, hit in covered.items() if hit} == {}


@pytest.mark.parametrize("width", [1280, PHONE["width"]])
def test_links_meet_wcag_aa_contrast(live_server, member, width):
    low = []
    with browser_page(width=width) as page:
        for path in ("/", "/privacy/", "/privacy/cookies/", "/contact/"):
            page.goto(f"{live_server.url}{path}")
            low += [(path, text, round(contrast(fg, bg), 2))
                    for text, fg, bg in page.evaluate(LINK_COLOURS_JS)
                    if contrast(fg, bg) < 4.5]  # fmt: skip
        logged_in(page, live_server, member)
        for path in ("/mypage/", "/mypage/privacy/", member.pages[-1]):
            page.goto(f"{live_server.url}{path}")
            low += [(path, text, round(contrast(fg, bg), 2))
                    for text, fg, bg in page.evaluate(LINK_COLOURS_JS)
                    if contrast(fg, bg) < 4.5]  # fmt: skip
    assert not low, low


def test_the_skip_link_is_first_and_jumps_to_the_main_content(live_server):
    with browser_page() as page:
        page.goto(f"{live_server.url}/contact/")
        page.keyboard.press("Tab")
        skip = page.evaluate(
            "() => [document.activeElement.getAttribute('href'), document.activeElement.innerText]"
        )
        assert skip[0] == "#main" and skip[1].strip()
        assert page.locator("a[href='#main']").is_visible()  # shown once focused
        page.keyboard.press("Enter")
        assert page.evaluate("() => location.hash") == "#main"
        assert page.locator("main#main").count() == 1


def test_the_favicon_is_served(live_server):
    with browser_page() as page:
        page.goto(f"{live_server.url}/")
        href = page.get_attribute("link[rel=icon]", "href")
        response = page.request.get(f"{live_server.url}{href}")
        assert response.status == 200 and response.headers["content-type"].startswith("image/")
