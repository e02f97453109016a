"""Real Chromium (Debian's, driven by Playwright) through signup → My Page → profile edit →
order history, against a live server."""

import pytest

from apps.customers.models import Customer
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.browser.member_pages import browser_page
from tests.factories import AddressFactory, ProductFactory

pytestmark = [
    pytest.mark.browser,
]


@pytest.fixture
def page():
    with browser_page() as page:
        yield page


def test_cookie_banner_records_the_choice_and_tags_load_only_after_consent(
    live_server, page, settings
):
    from apps.consents.models import ConsentEvent, ExternalTag

    settings.EXTERNAL_TAG_ALLOWED_HOSTS = ["tags.adco.example"]
    tag = ExternalTag.objects.create(
        name="Remarketing", recipient="AdCo", data_sent="page URL", purpose="ads",
        category="advertising", script_url="https://tags.adco.example/ad.js",
    )  # fmt: skip
    ad_tag = f"script[data-external-tag='{tag.pk}']"
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/")
    assert page.locator("#cookie-banner").is_visible()
    assert page.locator(ad_tag).count() == 0
    page.click("#cookie-banner button[value=necessary]")
    page.wait_for_selector("#cookie-banner", state="detached")
    assert page.locator(ad_tag).count() == 0

    page.goto(f"{live_server.url}/privacy/cookies/")
    page.check("main #cookie-advertising")
    page.click("main button[value=custom]")
    page.wait_for_selector(ad_tag, state="attached")
    # The policy and the tag agree: the browser lets our element load (the host itself is
    # unreachable offline, which is not a policy violation).
    assert violations == []
    events = ConsentEvent.objects.filter(source="cookie_banner", visitor_id__isnull=False)
    assert [(e.purpose.code, e.action) for e in events.order_by("pk")] == [
        ("remarketing", "withdraw"),
        ("analytics", "withdraw"),
        ("remarketing", "grant"),
    ]


def test_signup_mypage_profile_and_orders(live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    # The site speaks Japanese by default.
    assert page.locator("html").get_attribute("lang") == "ja"
    page.fill("#id_email", "browser@example.com")
    page.fill("#id_password1", "sakura-blossom-2026")
    page.fill("#id_password2", "sakura-blossom-2026")
    page.fill("#id_family_name", "鈴木")
    page.fill("#id_given_name", "一郎")
    page.fill("#id_family_name_kana", "すずき")  # hiragana is turned into katakana
    page.fill("#id_given_name_kana", "イチロウ")
    page.check("#id_consent-newsletter")
    page.click("main form [type=submit]")
    # The same answer as for a registered address, then the member logs in.
    page.wait_for_url(f"{live_server.url}/accounts/signup/?sent=1")
    page.goto(f"{live_server.url}/accounts/login/?next=/mypage/")
    page.fill("#id_username", "browser@example.com")
    page.fill("#id_password", "sakura-blossom-2026")
    page.click("main form [type=submit]")
    page.wait_for_url(f"{live_server.url}/mypage/")
    assert "鈴木 一郎" in page.content()

    page.click("#cookie-banner button[value=necessary]")
    page.click("a[href='/mypage/privacy/']")
    assert "newsletter" in page.locator("#consents tr[data-purpose=newsletter]").get_attribute(
        "data-purpose"
    )
    page.click("#consents tr[data-purpose=newsletter] button[value=withdraw]")
    page.wait_for_selector("#consents tr[data-purpose=newsletter] button[value=grant]")
    page.click("a[href='/mypage/profile/']")
    assert page.input_value("#id_family_name_kana") == "スズキ"
    page.fill("#id_phone", "12")
    page.click("main form [type=submit]")
    assert page.locator("#id_phone.is-invalid").count() == 1  # a clear error, nothing saved
    assert Customer.objects.get(email="browser@example.com").phone == ""
    page.fill("#id_phone", "090-2222-3333")
    page.fill("#id_given_name", "一朗")
    page.click("main form [type=submit]")
    page.wait_for_url(f"{live_server.url}/mypage/profile/")
    customer = Customer.objects.get(email="browser@example.com")
    assert customer.given_name == "一朗" and customer.phone == "090-2222-3333"

    address = AddressFactory(customer=customer, is_default=True)
    order = order_place(
        customer=customer,
        items=[LineItem(ProductFactory(name="抹茶 30g", price=2400).pk, 1)],
        ship_to=address,
        payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
    )
    page.click("a[href='/mypage/orders/']")
    page.click(f"text={order.number}")
    page.wait_for_url(f"{live_server.url}/mypage/orders/{order.number}/")
    body = page.content()
    assert "抹茶 30g" in body and "¥3,000" in body and "4242" in body
