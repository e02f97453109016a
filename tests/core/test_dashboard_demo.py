"""``manage.py seed_demo`` makes data that shows the product on the dashboard: requests in
every state (one overdue, one due soon, one waiting for the fee, a completed erasure with its
report, one waiting for a connected system), incidents with deadlines, inquiries, a restricted
customer, campaigns sent with unsubscribes, months of consent history; and a second run adds
nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.consents.models import ConsentEvent
from apps.customers.dashboard import inquiries_waiting
from apps.customers.models import Customer, Inquiry, User
from apps.incidents.dashboard import incidents_pending_report
from apps.incidents.models import Incident
from apps.integration.dashboard import propagation_counts
from apps.marketing.dashboard import campaign_results, consenting_over_time
from apps.marketing.models import Campaign, Delivery, Subscription
from apps.privacy_requests.dashboard import privacy_request_deadline_counts
from apps.privacy_requests.models import ERASURE_KINDS, PrivacyRequest, Status

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = (User, Customer, Inquiry, Incident, PrivacyRequest, Campaign, Delivery, Subscription,
          ConsentEvent)  # fmt: skip


def _counts():
    return {model.__name__: model.objects.count() for model in TABLES}


def test_seed_demo_shows_every_panel_and_a_second_run_adds_nothing(capsys):
    call_command("seed_demo", customers=120)
    today = timezone.localdate()

    assert set(PrivacyRequest.objects.values_list("status", flat=True)) == set(Status.values)
    assert privacy_request_deadline_counts(today=today) | {"open": 0} == {
        "open": 0,
        "overdue": 1,
        "soon": 1,
    }
    erased = PrivacyRequest.objects.get(kind__in=ERASURE_KINDS, status=Status.COMPLETED)
    assert erased.erasure_report  # what was deleted, anonymised and kept
    assert PrivacyRequest.objects.filter(status=Status.CARRYING_OUT).count() == 1
    assert propagation_counts(today=today)["manual"] == 1
    months = PrivacyRequest.objects.dates("received_at", "month")
    assert len(months) >= 4  # requests per month has months to show

    states = {state for _incident, state in incidents_pending_report(today=today)}
    assert states == {Incident.DeadlineState.OVERDUE, Incident.DeadlineState.DUE_SOON}
    waiting, oldest = inquiries_waiting()
    assert sum(waiting.values()) == 4 and (today - timezone.localdate(oldest)).days >= 3
    assert Customer.objects.filter(status=Customer.Status.RESTRICTED).count() == 1

    campaigns = campaign_results()
    assert len(campaigns) == 2
    assert all(c.sent > 50 and c.skipped and c.failed and c.bounced for c in campaigns)
    assert all(c.unsubscribed for c in campaigns)
    _starts, series = consenting_over_time(today=today)
    [audience] = series.values()
    assert audience[0] < audience[-2] and audience[-1] > 0  # it grew over the months

    first = _counts()
    call_command("seed_demo", customers=120)
    assert _counts() == first
    assert "privacy@example.com" in capsys.readouterr().out
