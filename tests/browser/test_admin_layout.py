"""The three staff pages people work from fit a 1280 px wide window without sideways
scrolling, with data in them: the customer page, the incident register (its report
deadlines in view) and the request queue."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.core import roles
from apps.incidents.services import IncidentFacts, incident_create
from tests.browser.test_member_journey import page  # noqa: F401  (the Chromium fixture)
from tests.factories import AddressFactory, CustomerFactory, make_staff
from tests.privacy_requests.conftest import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280


@pytest.fixture
def officer_page(live_server, page):  # noqa: F811
    officer = make_staff(roles.PRIVACY_OFFICER)
    client = Client()
    client.force_login(officer)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size({"width": WIDTH, "height": 900})
    return page


# The page itself, and any box that scrolls sideways inside it (Django's change list wraps
# its table in one: a table too wide scrolls there, not in the window).
OVERFLOW = """() => {
  const found = {};
  const page = document.scrollingElement.scrollWidth - window.innerWidth;
  if (page > 0) found.page = page;
  for (const el of document.querySelectorAll("#content *")) {
    const extra = el.scrollWidth - el.clientWidth;
    if (extra > 1 && ["auto", "scroll"].includes(getComputedStyle(el).overflowX)) {
      found[el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className] = extra;
    }
  }
  return found;
}"""


def overflow(browser_page) -> dict:
    return browser_page.evaluate(OVERFLOW)


def test_the_working_pages_fit_1280_px(live_server, officer_page):
    customer = CustomerFactory(
        family_name="長谷川", given_name="美智子", family_name_kana="ハセガワ",
        given_name_kana="ミチコ", email="michiko.hasegawa.long-address@example.co.jp",
    )  # fmt: skip
    AddressFactory(customer=customer, is_default=True)
    for _ in range(3):
        make_request(customer)
    incident_create(
        facts=IncidentFacts(
            discovered_at=timezone.now(), title="配送ラベルの誤送付（伝票番号の取り違え）",
            description="…", data_items="氏名、住所", people_affected=1200,
            unauthorised_access=True,
        )
    )  # fmt: skip
    pages = {
        "customer": reverse("admin:customers_customer_change", args=[customer.pk]),
        "incidents": reverse("admin:incidents_incident_changelist"),
        "requests": reverse("admin:privacy_requests_privacyrequest_changelist"),
    }
    too_wide = {}
    for name, url in pages.items():
        response = officer_page.goto(live_server.url + url)
        assert response.status == 200, name
        assert officer_page.locator("#content").is_visible()
        if extra := overflow(officer_page):
            too_wide[name] = extra
    assert not too_wide, f"pages wider than {WIDTH} px by: {too_wide}"

    # The register's point: both report deadlines are in view without scrolling sideways.
    officer_page.goto(live_server.url + pages["incidents"])
    for column in ("column-preliminary_due_display", "column-final_due_display"):
        box = officer_page.locator(f"th.{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTH, column
