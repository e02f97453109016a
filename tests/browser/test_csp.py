"""In a real browser, the Content-Security-Policy blocks nothing of ours: the language switch
(formerly an inline onchange handler, now static/js/site.js) still works."""

import pytest

from tests.browser.test_member_journey import page  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.browser


def test_language_switch_works_under_the_csp(live_server, page):  # noqa: F811
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(f"{live_server.url}/contact/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("html").get_attribute("lang") == "ja"
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []
