"""The staff dashboard's panel selectors (each app's dashboard.py), the registry's role and
permission rules (apps/core/dashboard.py) and the SVG charts (apps/core/charts.py)."""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from apps.core import roles
from apps.core.charts import chart_svg
from apps.core.dashboard import Bars, Columns, Figure, Line, Stack, dashboard_for, month_starts
from apps.customers.dashboard import customers_restricted_count, inquiries_panel, inquiries_waiting
from apps.customers.models import Customer, Inquiry
from apps.incidents.dashboard import incidents_panel, incidents_pending_report
from apps.incidents.models import Incident
from apps.marketing.dashboard import campaign_results, consenting_over_time, unsubscribe_rate
from apps.marketing.models import Campaign, Delivery
from apps.privacy_requests.dashboard import (
    privacy_request_deadline_counts,
    privacy_requests_open_by_status,
    privacy_requests_per_month_by_kind,
    requests_panel,
)
from apps.privacy_requests.models import Kind, PrivacyRequest, Status
from tests.factories import CustomerFactory, make_staff
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


def _request(*, status=Status.REVIEW, due_on=None, kind=Kind.ERASURE, received_at=None):
    from tests.privacy_requests.conftest import make_request

    pr = make_request(CustomerFactory(), kind=kind)
    fields = {"status": status}
    if due_on is not None:
        fields["due_on"] = due_on
    if received_at is not None:
        fields["received_at"] = received_at
    PrivacyRequest.objects.filter(pk=pr.pk).update(**fields)
    return PrivacyRequest.objects.get(pk=pr.pk)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# ---------------------------------------------------------------------- registry


def test_month_starts_cross_the_year():
    assert month_starts(today=datetime.date(2026, 2, 17), count=4) == [
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
    ]


def test_each_role_sees_its_own_panels_and_several_roles_see_each():
    officer = make_staff(roles.PRIVACY_OFFICER)
    marketing = make_staff(roles.MARKETING)
    support = make_staff(roles.SUPPORT)
    both = make_staff(roles.SUPPORT)
    both.groups.add(marketing.groups.get())
    both = type(both).objects.get(pk=both.pk)  # fresh permission cache

    def seen(user):
        return {s.role: [p.key for p, _c in s.panels] for s in dashboard_for(user)}

    assert seen(officer) == {
        roles.PRIVACY_OFFICER: ["privacy_requests", "incidents", "propagation"]
    }
    assert seen(marketing) == {roles.MARKETING: ["campaigns", "audience"]}
    assert seen(support) == {roles.SUPPORT: ["inquiries", "restricted_customers"]}
    assert list(seen(both)) == [roles.MARKETING, roles.SUPPORT]
    admin = make_staff(superuser=True)
    assert list(seen(admin)) == [roles.PRIVACY_OFFICER, roles.MARKETING, roles.SUPPORT]


def test_a_panel_needs_its_permission_as_well_as_the_role():
    """A role whose group lost a permission no longer sees the panel linking to that list."""
    from django.contrib.auth.models import Permission

    support = make_staff(roles.SUPPORT)
    group = support.groups.get()
    group.permissions.remove(Permission.objects.get(codename="view_inquiry"))
    support = type(support).objects.get(pk=support.pk)
    keys = [p.key for s in dashboard_for(support) for p, _c in s.panels]
    assert keys == ["restricted_customers"]


# ---------------------------------------------------------------------- privacy requests


def test_request_deadline_counts_and_states_count_open_requests_only():
    today = timezone.localdate()
    _request(due_on=today - datetime.timedelta(days=1))  # overdue
    _request(due_on=today + datetime.timedelta(days=3), status=Status.FEE)  # due soon
    _request(due_on=today + datetime.timedelta(days=4))  # neither
    _request(due_on=today - datetime.timedelta(days=9), status=Status.COMPLETED)  # closed
    assert privacy_request_deadline_counts(today=today) == {"open": 3, "overdue": 1, "soon": 1}
    by_status = privacy_requests_open_by_status()
    assert by_status[Status.REVIEW] == 2 and by_status[Status.FEE] == 1
    assert Status.COMPLETED not in by_status and by_status[Status.RECEIVED] == 0


def test_requests_per_month_by_kind_buckets_in_the_shops_time_zone():
    today = datetime.date(2026, 3, 10)
    # 1 March 00:30 in Tokyo is still February in UTC: it counts for March.
    march_early = timezone.make_aware(datetime.datetime(2026, 3, 1, 0, 30))
    _request(kind=Kind.ERASURE, received_at=march_early)
    _request(kind=Kind.ERASURE, received_at=_at(datetime.date(2026, 1, 20)))
    _request(kind=Kind.STOP_OF_USE, received_at=_at(datetime.date(2026, 3, 2)))
    _request(kind=Kind.STOP_OF_USE, received_at=_at(datetime.date(2025, 9, 2)))  # too old
    starts, per_kind = privacy_requests_per_month_by_kind(today=today, months=3)
    assert starts == [datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), today.replace(day=1)]
    assert per_kind == {Kind.STOP_OF_USE: [0, 0, 1], Kind.ERASURE: [1, 0, 1]}


def test_the_requests_panel_links_each_number_to_the_list_that_counts_it(client):
    today = timezone.localdate()
    pr = _request(due_on=today - datetime.timedelta(days=2))
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    content = requests_panel(today=today)
    overdue = content.figures[0]
    assert overdue.value == 1 and overdue.tone == "alert"
    page = client.get(overdue.url)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [pr]
    columns = content.charts[1]
    stack = next(s for s in columns.stacks if s.label == str(Kind.ERASURE.label))
    page = client.get(stack.urls[-1])
    assert stack.values[-1] == page.context["cl"].result_count == 1


# ---------------------------------------------------------------------- incidents


def _incident(discovered: datetime.datetime, **facts) -> Incident:
    fields = {
        "title": "Lost laptop",
        "description": "A laptop with the order list was lost.",
        "data_items": "names, addresses",
        "people_affected": 1200,
        "sensitive_data": False,
        "card_data": False,
        "unauthorised_access": False,
        "strongly_encrypted": False,
        **facts,
    }
    return Incident.objects.create(discovered_at=discovered, **fields)


def test_incidents_pending_report_are_most_urgent_first_and_skip_the_done():
    today = timezone.localdate()
    old = _incident(timezone.now() - datetime.timedelta(days=40))  # preliminary overdue
    fresh = _incident(timezone.now() - datetime.timedelta(days=4))  # preliminary due soon
    _incident(timezone.now(), people_affected=5)  # no report required
    _incident(
        timezone.now() - datetime.timedelta(days=50),
        preliminary_reported_on=today - datetime.timedelta(days=45),
        final_reported_on=today - datetime.timedelta(days=20),
    )
    pending = incidents_pending_report(today=today)
    assert [(i.pk, s) for i, s in pending] == [
        (old.pk, Incident.DeadlineState.OVERDUE),
        (fresh.pk, Incident.DeadlineState.DUE_SOON),
    ]
    content = incidents_panel(today=today)
    assert [f.value for f in content.figures] == [1, 1, 0]
    assert content.table.rows[0][0].text == "Lost laptop"
    assert content.table.rows[0][3].tone == "alert"


# ---------------------------------------------------------------------- marketing


def test_campaign_results_count_per_status_and_the_unsubscribes_after_it():
    from apps.marketing.services import subscription_unsubscribe

    mag = magazine()
    people = [subscriber(mag) for _ in range(4)]
    from apps.marketing.models import Subscription

    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENT, started_at=timezone.now())
    sent_at = timezone.now() - datetime.timedelta(hours=1)
    for person, status, feedback in zip(
        people,
        [
            Delivery.Status.SENT,
            Delivery.Status.SENT,
            Delivery.Status.SKIPPED,
            Delivery.Status.FAILED,
        ],
        [Delivery.Feedback.BOUNCED, "", "", ""],
        strict=True,
    ):
        Delivery.objects.create(
            campaign=c,
            customer=person,
            subscription=Subscription.objects.get(customer=person),
            status=status,
            feedback=feedback,
            sent_at=sent_at if status == Delivery.Status.SENT else None,
        )
    subscription_unsubscribe(subscription=Subscription.objects.get(customer=people[1]))
    campaign(mag, subject="draft, not counted")
    [result] = campaign_results()
    assert (result.sent, result.skipped, result.failed, result.bounced) == (2, 1, 1, 1)
    assert result.unsubscribed == 1 and unsubscribe_rate(result) == 0.5


def test_consenting_over_time_walks_back_from_todays_count():
    from unittest import mock

    from apps.consents import services as consent_services

    mag = magazine()
    today = timezone.localdate()
    starts = month_starts(today=today, count=3)
    first, second = CustomerFactory(), CustomerFactory()

    def on(day, record, customer):
        with mock.patch("apps.consents.services.ledger.timezone.now", return_value=_at(day)):
            record(purpose=mag.purpose, source="mypage", customer=customer)

    on(starts[0], consent_services.consent_grant, first)  # before the window: in every point
    on(starts[1], consent_services.consent_grant, second)
    on(starts[2], consent_services.consent_withdraw, first)
    _starts, series = consenting_over_time(today=today, months=3)
    assert series == {mag.purpose_id: [1, 2, 1]}


# ---------------------------------------------------------------------- support


def test_inquiries_waiting_per_topic_and_restricted_customers():
    Inquiry.objects.create(name="A", email="a@example.com", topic="order", message="?")
    Inquiry.objects.create(name="B", email="b@example.com", topic="order", message="?")
    Inquiry.objects.create(
        name="C", email="c@example.com", topic="privacy", message="?", status="answered"
    )
    CustomerFactory(status=Customer.Status.RESTRICTED, restriction_reason="chargebacks")
    CustomerFactory()
    counts, oldest = inquiries_waiting()
    assert counts == {"order": 2, "product": 0, "privacy": 0, "other": 0}
    assert oldest is not None
    assert customers_restricted_count() == {"restricted": 1}
    content = inquiries_panel(today=timezone.localdate())
    assert content.figures[0].value == 2
    query = parse_qs(urlparse(content.charts[0].figures[0].url).query)
    assert query == {"status__exact": ["new"], "topic__exact": ["order"]}


# ---------------------------------------------------------------------- charts


def test_charts_are_svg_with_a_link_and_a_value_per_mark_and_escape_labels():
    bars = chart_svg(Bars("t", [Figure("<b>x</b>", 3, "/a?x=1&y=2"), Figure("y", 0, "/b")]))
    assert bars.startswith("<svg") and "style=" not in bars
    assert 'href="/a?x=1&amp;y=2"' in bars and 'data-value="3"' in bars
    assert "&lt;b&gt;x&lt;/b&gt;" in bars and "<b>" not in bars
    long = chart_svg(
        Bars("t", [Figure("ご自身の個人情報について（開示・訂正・削除など）", 1, "/c")])
    )
    assert ">ご自身の個人情報につい…</text>" in long  # fits left of the bar
    assert "<title>ご自身の個人情報について（開示・訂正・削除など）: 1</title>" in long
    columns = chart_svg(Columns("t", ["Jan", "Feb"], [Stack("s", [1, 0], ["/j", "/f"])]))
    assert columns.count("<rect") == 1 and 'href="/j"' in columns
    line = chart_svg(Line("t", ["Jan", "Feb"], [5, 7], ["/p", "/p"]))
    assert line.count("<circle") == 2 and "<polyline" in line


# ---------------------------------------------------------------------- the admin's index


@pytest.mark.parametrize(
    ("role", "panels"),
    [
        (roles.PRIVACY_OFFICER, ["privacy_requests", "incidents", "propagation"]),
        (roles.MARKETING, ["campaigns", "audience"]),
        (roles.SUPPORT, ["inquiries", "restricted_customers"]),
    ],
)
def test_the_admin_index_is_the_roles_dashboard(client, role, panels):
    mag = magazine()
    subscriber(mag)
    client.force_login(make_staff(role))
    page = client.get("/admin/")
    assert page.status_code == 200
    body = page.content.decode()

    assert re.findall(r'data-panel="(\w+)"', body) == panels
    assert "<svg" in body and "style=" not in body.split('id="content-main"')[1]
    assert "css/dashboard.css" in body


def test_each_panel_takes_a_handful_of_queries_whatever_the_rows():
    """Aggregated in SQL: ten times the rows, the same number of queries per panel."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.core.dashboard import panels

    def queries_per_panel():
        today = timezone.localdate()
        counts = {}
        for panel in panels():
            with CaptureQueriesContext(connection) as captured:
                panel.build(today=today)
            counts[panel.key] = len(captured)
        return counts

    mag = magazine()

    def add(n):
        for _ in range(n):
            _request(due_on=timezone.localdate())
            Inquiry.objects.create(name="A", email="a@example.com", topic="order", message="?")
            subscriber(mag)

    add(1)
    few = queries_per_panel()
    add(10)
    assert queries_per_panel() == few
    assert max(few.values()) <= 4, few
