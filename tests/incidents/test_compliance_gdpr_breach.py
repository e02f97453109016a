"""GDPR Art. 33/34 beside the APPI deadlines: one test per rule, then the register and admin."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.core import roles
from apps.incidents import rules
from apps.incidents.services import IncidentFacts, incident_create, incident_notice_record
from tests.factories import make_staff

TOKYO_NOON = datetime.datetime(
    2026, 3, 2, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9))
)


def test_an_incident_with_people_in_the_eu_must_be_notified_to_the_authority():
    assert rules.gdpr_must_notify_authority(involves_eu_people=True, unlikely_risk=False)


def test_no_authority_notification_without_people_in_the_eu():
    assert not rules.gdpr_must_notify_authority(involves_eu_people=False, unlikely_risk=False)


def test_a_breach_unlikely_to_result_in_a_risk_need_not_be_notified():
    assert not rules.gdpr_must_notify_authority(involves_eu_people=True, unlikely_risk=True)


def test_the_authority_is_due_72_clock_hours_after_awareness():
    assert rules.gdpr_authority_due(TOKYO_NOON) == TOKYO_NOON + datetime.timedelta(days=3)
    assert rules.GDPR_AUTHORITY_HOURS == 72


def test_a_high_risk_breach_is_communicated_to_the_people():
    assert rules.gdpr_must_communicate_to_people(
        involves_eu_people=True, high_risk=True, strongly_encrypted=False
    )
    assert not rules.gdpr_must_communicate_to_people(
        involves_eu_people=True, high_risk=False, strongly_encrypted=False
    )


def test_encrypted_data_needs_no_communication_to_the_people():
    assert not rules.gdpr_must_communicate_to_people(
        involves_eu_people=True, high_risk=True, strongly_encrypted=True
    )


QUIET = {
    "sensitive_data": False,
    "card_data": False,
    "unauthorised_access": False,
    "people_affected": 10,
    "strongly_encrypted": False,
}


def _incident(**facts):
    return incident_create(
        facts=IncidentFacts(title="t", description="d", data_items="name", **{**QUIET, **facts})
    )


@pytest.mark.django_db
def test_an_eu_incident_gets_the_72_hour_deadline_beside_the_appi_ones():
    """A small leak the APPI does not make reportable still has the GDPR deadline."""
    discovered = timezone.now() - datetime.timedelta(days=5)
    aware = discovered + datetime.timedelta(days=1)
    incident = _incident(discovered_at=discovered, aware_at=aware, involves_eu_people=True)
    assert not incident.must_report
    assert incident.gdpr_must_notify
    assert incident.gdpr_authority_due == aware + datetime.timedelta(hours=72)
    assert incident.deadline_state(today=timezone.localdate()) == "overdue"
    incident.authority_notified_at = aware + datetime.timedelta(hours=70)
    assert incident.deadline_state(today=timezone.localdate()) == "done"
    # Without people in the EU/EEA the same facts need nothing.
    plain = _incident(discovered_at=discovered)
    assert plain.deadline_state(today=timezone.localdate()) == "not_required"


@pytest.mark.django_db
def test_a_high_risk_eu_incident_is_pending_until_the_people_are_told():
    discovered = timezone.now() - datetime.timedelta(hours=1)
    incident = _incident(
        discovered_at=discovered,
        involves_eu_people=True,
        eu_high_risk=True,
        authority_notified_at=discovered,
    )
    assert incident.gdpr_must_communicate
    assert incident.deadline_state(today=timezone.localdate()) == "due_soon"
    incident_notice_record(incident=incident, channel="email", recipients=10, summary="We ...")
    assert incident.deadline_state(today=timezone.localdate()) == "done"


@pytest.mark.django_db
def test_awareness_before_discovery_is_refused():
    discovered = timezone.now() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        _incident(
            discovered_at=discovered,
            aware_at=discovered - datetime.timedelta(hours=1),
            involves_eu_people=True,
        )
    assert "aware_at" in caught.value.message_dict


@pytest.mark.django_db
def test_admin_shows_the_gdpr_deadline_and_the_communication(client):
    discovered = timezone.now() - datetime.timedelta(days=4)
    incident = _incident(discovered_at=discovered, involves_eu_people=True, eu_high_risk=True)
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    body = client.get(reverse("admin:incidents_incident_changelist")).content.decode()
    due = timezone.localtime(discovered + datetime.timedelta(hours=72)).strftime("%Y-%m-%d %H:%M")
    assert due in body and 'class="deadline deadline-overdue"' in body
    change = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert 'class="deadline deadline-overdue"' in change.content.decode()
    eu_only = client.get(
        reverse("admin:incidents_incident_changelist"), {"involves_eu_people__exact": "1"}
    )
    assert [i.pk for i in eu_only.context["cl"].result_list] == [incident.pk]


@pytest.mark.django_db
def test_the_dashboard_lists_an_eu_incident_whose_appi_reports_are_done_or_not_required():
    from apps.incidents.dashboard import incidents_panel, incidents_pending_report

    today = timezone.localdate()
    discovered = timezone.now() - datetime.timedelta(days=5)
    gdpr_only = _incident(discovered_at=discovered, involves_eu_people=True)
    appi_done = _incident(
        discovered_at=discovered,
        involves_eu_people=True,
        card_data=True,
        preliminary_reported_on=today,
        final_reported_on=today,
    )
    pending = incidents_pending_report(today=today)
    assert {(i.pk, s) for i, s in pending} == {(gdpr_only.pk, "overdue"), (appi_done.pk, "overdue")}
    rows = {row[0].url: row for row in incidents_panel(today=today).table.rows}
    gdpr_row = rows[reverse("admin:incidents_incident_change", args=[gdpr_only.pk])]
    assert gdpr_row[1].text == "-" and gdpr_row[3].tone == "alert"
