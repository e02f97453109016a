"""Real Chromium against a live server with the demo's data, at 1280 and 390 px, in Japanese:
each role's dashboard draws its charts (server-side SVG, no CSP violation, nothing wider than
the screen), its numbers are the database's, and a number's link opens the list it counts;
the admin's 403 page is a 403 in the admin's look and the staff member's language."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from apps.consents.models import ConsentState
from apps.core import roles
from apps.core.dashboard import month_starts
from apps.customers.models import Customer, Inquiry
from apps.demo.services import DEMO_PASSWORD, demo_seed
from apps.marketing.models import Campaign, Delivery, MailMagazine
from apps.privacy_requests.models import OPEN_STATUSES, PrivacyRequest, Status
from apps.privacy_requests.selectors import privacy_requests_due_soon, privacy_requests_overdue

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

WIDTHS = (1280, 390)


@pytest.fixture
def demo(live_server):
    demo_seed(crowd=40)
    return live_server.url


class Staff:
    """A logged-in staff page at one width that records CSP violations."""

    def __init__(self, browser, base, email, width):
        self.context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.base = base
        self.violations = []
        self.page.on(
            "console",
            lambda m: (
                self.violations.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        self.page.goto(f"{base}/admin/login/?next=/admin/")
        self.page.fill("#id_username", email)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("[type=submit]")
        self.page.wait_for_url(f"{base}/admin/")

    def figure(self, panel, label) -> int:
        value = self.page.locator(
            f"[data-panel={panel}] .dashboard-figure:has(.figure-label:text-is('{label}')) "
            ".figure-value"
        )
        return int(value.get_attribute("data-value"))

    def charts_drawn(self, panel) -> int:
        charts = self.page.locator(f"[data-panel={panel}] svg.chart")
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 250 and box["height"] > 20, (panel, i, box)
        return charts.count()

    def fits_the_screen(self) -> bool:
        return self.page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )

    def rows_after_clicking(self, selector) -> int:
        self.page.click(selector)
        self.page.wait_for_selector("#changelist")
        return self.page.locator("#result_list tbody tr").count()

    def assert_no_csp_violation(self):
        """On our pages (the dashboard, the 403): some lists' own columns are not yet
        CSP-clean (the request queue's deadline flags use inline styles)."""
        assert self.violations == []

    def close(self):
        self.context.close()


def test_the_privacy_officers_dashboard(demo, browser):
    today = timezone.localdate()
    open_requests = PrivacyRequest.objects.filter(status__in=OPEN_STATUSES)
    first_month = month_starts(today=today, count=6)[0]
    since = timezone.make_aware(datetime.datetime.combine(first_month, datetime.time()))
    for width in WIDTHS:
        staff = Staff(browser, demo, "privacy@example.com", width)
        page = staff.page
        assert page.locator("html").get_attribute("lang") == "ja"
        assert page.locator("[data-role='Privacy officer'] h2").inner_text() == "個人情報保護担当"
        assert staff.charts_drawn("privacy_requests") == 2
        assert staff.charts_drawn("propagation") == 1
        assert staff.fits_the_screen()
        staff.assert_no_csp_violation()

        overdue = privacy_requests_overdue(today=today).count()
        assert overdue == 1 and staff.figure("privacy_requests", "期限超過") == overdue
        assert staff.figure("privacy_requests", "3日以内に期限") == (
            privacy_requests_due_soon(today=today).count()
        )
        assert staff.figure("privacy_requests", "未完了のすべて") == open_requests.count()
        # One bar per open state, each the database's count.
        bars = page.locator("[data-panel=privacy_requests] svg.chart-bars .bar")
        drawn = [int(bars.nth(i).get_attribute("data-value")) for i in range(bars.count())]
        assert drawn == [
            open_requests.filter(status=s).count() for s in Status.values if s in OPEN_STATUSES
        ]
        # The columns add up to the requests received in the months they show.
        month = page.locator("[data-panel=privacy_requests] svg.chart-columns rect")
        assert sum(int(month.nth(i).get_attribute("data-value")) for i in range(month.count())) == (
            PrivacyRequest.objects.filter(received_at__gte=since).count()
        )
        assert staff.figure("incidents", "期限超過") == 1
        assert page.locator("[data-panel=incidents] td.tone-alert").count() >= 1

        # The number's link opens the list it counts.
        assert staff.rows_after_clicking("[data-panel=privacy_requests] .tone-alert a") == overdue
        assert "deadline=overdue" in page.url
        page.goto(f"{demo}/admin/")
        assert (
            staff.rows_after_clicking(
                "[data-panel=privacy_requests] svg.chart-bars a:has(.bar[data-value]) >> nth=2"
            )
            == open_requests.filter(status=Status.FEE).count()
        )
        assert "status__exact=fee" in page.url
        page.goto(f"{demo}/admin/")
        assert staff.rows_after_clicking("[data-panel=propagation] .tone-warn a") == 1
        staff.close()


def test_the_marketing_dashboard(demo, browser):
    magazine = MailMagazine.objects.get(slug="weekly")
    consenting = ConsentState.objects.filter(
        purpose=magazine.purpose, customer__isnull=False, status=ConsentState.Status.GRANTED
    ).count()
    sent = Campaign.objects.filter(status=Campaign.Status.SENT).order_by("-started_at")
    for width in WIDTHS:
        staff = Staff(browser, demo, "marketing@example.com", width)
        page = staff.page
        assert page.locator("[data-role]").count() == 1  # marketing's panels only
        assert staff.charts_drawn("campaigns") == 1 and staff.charts_drawn("audience") == 1
        assert staff.fits_the_screen()
        staff.assert_no_csp_violation()
        points = page.locator("[data-panel=audience] .point")
        assert points.count() == 6
        assert int(points.nth(5).get_attribute("data-value")) == consenting
        rows = page.locator("[data-panel=campaigns] tbody tr")
        assert rows.count() == sent.count() == 2
        for i, campaign in enumerate(sent):
            cells = rows.nth(i).locator("td")
            assert cells.nth(0).inner_text() == campaign.subject
            deliveries = Delivery.objects.filter(campaign=campaign)
            assert [cells.nth(n).inner_text() for n in (2, 3, 4, 5)] == [
                str(deliveries.filter(status=Delivery.Status.SENT).count()),
                str(deliveries.filter(status=Delivery.Status.SKIPPED).count()),
                str(deliveries.filter(status=Delivery.Status.FAILED).count()),
                str(deliveries.filter(feedback=Delivery.Feedback.BOUNCED).count()),
            ]
        # Marketing sees counts and the campaign, never who received it.
        rows.nth(0).locator("td >> nth=2").locator("a").click()
        page.wait_for_url(f"{demo}/admin/marketing/campaign/{sent[0].pk}/change/")
        staff.close()


def test_the_support_dashboard(demo, browser):
    waiting = Inquiry.objects.filter(status=Inquiry.Status.NEW)
    restricted = Customer.objects.filter(status=Customer.Status.RESTRICTED).count()
    for width in WIDTHS:
        staff = Staff(browser, demo, "support@example.com", width)
        page = staff.page
        assert staff.charts_drawn("inquiries") == 1
        assert staff.fits_the_screen()
        staff.assert_no_csp_violation()
        assert staff.figure("inquiries", "回答待ち") == waiting.count() == 4
        assert staff.figure("restricted_customers", "利用制限中の顧客") == restricted == 1
        assert (
            staff.rows_after_clicking("[data-panel=inquiries] svg.chart-bars a >> nth=0")
            == waiting.filter(topic=Inquiry.Topic.ORDER).count()
        )
        assert "topic__exact=order" in page.url and "status__exact=new" in page.url
        page.goto(f"{demo}/admin/")
        assert staff.rows_after_clicking("[data-panel=restricted_customers] a") == restricted
        staff.close()


def test_the_admins_403_page(demo, browser):
    for width in WIDTHS:
        staff = Staff(browser, demo, "marketing@example.com", width)
        page = staff.page
        response = page.goto(f"{demo}/admin/customers/customer/")
        assert response.status == 403
        assert page.locator("#header #site-name").is_visible()  # the admin's look
        assert page.locator("html").get_attribute("lang") == "ja"
        assert "ご担当の役割では、顧客の一覧を見ることはできません。" in page.inner_text(
            ".errornote"
        )
        assert staff.fits_the_screen()
        staff.assert_no_csp_violation()
        page.click("#denied-home")
        page.wait_for_url(f"{demo}/admin/")
        assert page.locator(f"[data-role='{roles.MARKETING}']").count() == 1
        staff.close()
