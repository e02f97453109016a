"""Real Chromium on the new-request form, at 1280 and 390 px: with JavaScript only the chosen
kind's fields show; without it every group shows under its heading and the server keeps only
the chosen kind's fields."""

import pytest

from apps.privacy_requests.models import Kind, PrivacyRequest
from tests.browser.member_pages import browser_page, logged_in
from tests.factories import AddressFactory, CustomerFactory

pytestmark = [pytest.mark.browser]

DISCLOSURE = "fieldset:has(#id_disclosure_form)"
POSTAL = "div[data-show-if-name=disclosure_form]"
CHANGES = "fieldset:has(#id_family_name)"


@pytest.mark.parametrize("width", [1280, 390])
def test_with_javascript_only_the_chosen_kinds_fields_show(live_server, width):
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default=True)
    with browser_page(width=width) as page:
        logged_in(page, live_server, customer)
        page.goto(f"{live_server.url}/mypage/requests/new/")
        assert page.locator(DISCLOSURE).is_hidden() and page.locator(CHANGES).is_hidden()

        page.select_option("#id_kind", Kind.DISCLOSURE)
        assert page.locator(DISCLOSURE).is_visible() and page.locator(CHANGES).is_hidden()
        assert page.locator(POSTAL).is_hidden()  # electronic: no envelope, no address
        assert page.input_value("#id_postal_address") == ""
        page.select_option("#id_disclosure_form", "paper")
        assert page.locator(POSTAL).is_visible()
        assert page.input_value("#id_postal_address") == ""  # the member picks it

        page.select_option("#id_kind", Kind.CORRECTION)
        assert page.locator(DISCLOSURE).is_hidden() and page.locator(CHANGES).is_visible()
        page.fill("#id_phone", "090-1234-5678")
        page.click("main form [type=submit]")
        page.wait_for_url(f"{live_server.url}/mypage/requests/PR-*/")
    privacy_request = PrivacyRequest.objects.get(customer=customer)
    assert privacy_request.kind == Kind.CORRECTION
    assert privacy_request.requested_changes == {"phone": "090-1234-5678"}
    assert privacy_request.disclosure_form == "" and privacy_request.requester_postal_address == ""


@pytest.mark.parametrize("width", [1280, 390])
def test_without_javascript_every_group_shows_under_its_heading(live_server, width):
    customer = CustomerFactory()
    with browser_page(width=width, javascript=False) as page:
        logged_in(page, live_server, customer)
        page.goto(f"{live_server.url}/mypage/requests/new/")
        for group in (DISCLOSURE, POSTAL, CHANGES):
            assert page.locator(group).is_visible(), group
        assert page.locator(f"{DISCLOSURE} legend").is_visible()
        assert page.locator(f"{CHANGES} legend").is_visible()
        page.select_option("#id_kind", Kind.DISCLOSURE)
        page.fill("#id_family_name", "山田")  # another kind's field: ignored
        page.click("main form [type=submit]")
        page.wait_for_url(f"{live_server.url}/mypage/requests/PR-*/")
    privacy_request = PrivacyRequest.objects.get(customer=customer)
    assert privacy_request.kind == Kind.DISCLOSURE
    assert privacy_request.disclosure_form == "electronic"
    assert not privacy_request.requested_changes
