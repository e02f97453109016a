"""The breach register's rules (APPI Art. 26, Enforcement Rules Art. 7 and 8), one per test."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.core import roles
from apps.incidents import rules
from apps.incidents.models import Incident, IncidentNotice
from apps.incidents.services import (
    IncidentFacts,
    incident_create,
    incident_notice_record,
    incident_update,
)
from tests.factories import make_staff

QUIET = {
    "sensitive_data": False,
    "card_data": False,
    "unauthorised_access": False,
    "people_affected": 10,
    "strongly_encrypted": False,
}


def reportable(**facts):
    return rules.must_report(**{**QUIET, **facts})


def test_a_small_plain_leak_need_not_be_reported():
    assert not reportable()


def test_sensitive_data_must_be_reported_even_for_one_person():
    assert reportable(sensitive_data=True, people_affected=1)


def test_card_data_must_be_reported():
    assert reportable(card_data=True, people_affected=1)


def test_unauthorised_access_must_be_reported():
    assert reportable(unauthorised_access=True, people_affected=1)


def test_more_than_1000_people_must_be_reported_but_1000_need_not():
    assert not reportable(people_affected=1000)
    assert reportable(people_affected=1001)


def test_strong_encryption_exempts_every_case():
    assert not reportable(
        sensitive_data=True,
        card_data=True,
        unauthorised_access=True,
        people_affected=50_000,
        strongly_encrypted=True,
    )


DISCOVERED = datetime.date(2026, 3, 2)


def test_preliminary_report_is_due_on_day_5_counting_the_discovery_day():
    assert rules.preliminary_due(DISCOVERED) == datetime.date(2026, 3, 6)


def test_final_report_is_due_on_day_30():
    assert rules.final_due(DISCOVERED, unauthorised_access=False) == datetime.date(2026, 3, 31)


def test_final_report_with_unauthorised_access_is_due_on_day_60():
    assert rules.final_due(DISCOVERED, unauthorised_access=True) == datetime.date(2026, 4, 30)


def _at(day: datetime.date, hour: int = 23) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 30)))


@pytest.mark.django_db
def test_deadlines_run_from_the_local_discovery_date():
    # 23:30 in Tokyo is 14:30 UTC the same day; 00:30 Tokyo is the previous day in UTC.
    incident = incident_create(
        facts=IncidentFacts(
            discovered_at=_at(DISCOVERED, hour=0),
            title="Mis-sent e-mail",
            description="A shipping notice went to the wrong customer.",
            data_items="name, address",
            **{**QUIET, "card_data": True},
        )
    )
    assert incident.discovered_on == DISCOVERED
    assert incident.must_report
    assert incident.preliminary_due == datetime.date(2026, 3, 6)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "reported", "state"),
    [
        (datetime.date(2026, 3, 2), {}, "open"),
        (datetime.date(2026, 3, 4), {}, "due_soon"),
        (datetime.date(2026, 3, 7), {}, "overdue"),
        (datetime.date(2026, 3, 7), {"preliminary_reported_on": DISCOVERED}, "open"),
        (
            datetime.date(2026, 4, 1),
            {"preliminary_reported_on": DISCOVERED, "final_reported_on": DISCOVERED},
            "done",
        ),
    ],
)
def test_deadline_state(today, reported, state):
    incident = incident_create(
        facts=IncidentFacts(
            discovered_at=_at(DISCOVERED),
            title="t",
            description="d",
            data_items="name",
            **{**QUIET, "people_affected": 5000},
            **reported,
        )
    )
    assert incident.deadline_state(today=today) == state


@pytest.mark.django_db
def test_an_incident_that_need_not_be_reported_has_no_deadline_state():
    incident = incident_create(
        facts=IncidentFacts(
            discovered_at=_at(DISCOVERED), title="t", description="d", data_items="name", **QUIET
        )
    )
    assert incident.deadline_state(today=DISCOVERED + datetime.timedelta(days=90)) == (
        "not_required"
    )


@pytest.mark.django_db
def test_bad_dates_are_refused():
    with pytest.raises(ValidationError):
        incident_create(
            facts=IncidentFacts(
                discovered_at=timezone.now() + datetime.timedelta(days=1),
                title="t",
                description="d",
                data_items="n",
                **QUIET,
            )
        )
    incident = incident_create(
        facts=IncidentFacts(
            discovered_at=_at(DISCOVERED), title="t", description="d", data_items="n", **QUIET
        )
    )
    with pytest.raises(ValidationError):
        incident_update(
            incident=incident,
            facts=IncidentFacts(final_reported_on=DISCOVERED - datetime.timedelta(1)),
        )
    with pytest.raises(ValidationError):
        incident_notice_record(
            incident=incident,
            channel="email",
            recipients=3,
            summary="s",
            sent_at=_at(DISCOVERED - datetime.timedelta(days=1)),
        )
    assert not IncidentNotice.objects.exists()


@pytest.mark.django_db
def test_notices_are_logged():
    incident = incident_create(
        facts=IncidentFacts(
            discovered_at=_at(DISCOVERED), title="t", description="d", data_items="n", **QUIET
        )
    )
    incident_notice_record(incident=incident, channel="email", recipients=120, summary="We ...")
    incident_notice_record(incident=incident, channel="post", recipients=3, summary="We ...")
    assert list(incident.notices.values_list("channel", "recipients")) == [
        ("email", 120),
        ("post", 3),
    ]


@pytest.mark.django_db
def test_admin_makes_overdue_incidents_stand_out_and_filters_them(client):
    old = incident_create(
        facts=IncidentFacts(
            discovered_at=timezone.now() - datetime.timedelta(days=10),
            title="old",
            description="d",
            data_items="n",
            **{**QUIET, "unauthorised_access": True},
        )
    )
    fresh = incident_create(
        facts=IncidentFacts(
            discovered_at=timezone.now(),
            title="fresh",
            description="d",
            data_items="n",
            **{**QUIET, "sensitive_data": True},
        )
    )
    quiet = incident_create(
        facts=IncidentFacts(
            discovered_at=timezone.now(), title="quiet", description="d", data_items="n", **QUIET
        )
    )
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    url = reverse("admin:incidents_incident_changelist")
    body = client.get(url).content.decode()
    assert body.count('class="deadline deadline-overdue"') == 1
    assert "incidents/admin.css" in body
    overdue = client.get(url, {"deadline": "overdue"}).context["cl"].result_list
    assert [i.pk for i in overdue] == [old.pk]
    not_required = client.get(url, {"deadline": "not_required"}).context["cl"].result_list
    assert [i.pk for i in not_required] == [quiet.pk]
    assert fresh.deadline_state() in {"open", "due_soon"}


@pytest.mark.django_db
def test_admin_records_an_incident_with_a_notice_through_the_services(client):
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    now = timezone.localtime()
    response = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Lost laptop",
            "discovered_at_0": now.strftime("%Y-%m-%d"),
            "discovered_at_1": "00:00:00",
            "description": "d",
            "data_items": "name, e-mail",
            "people_affected": "1500",
            "notices-TOTAL_FORMS": "1",
            "notices-INITIAL_FORMS": "0",
            "notices-MIN_NUM_FORMS": "0",
            "notices-MAX_NUM_FORMS": "1000",
            "notices-0-sent_at_0": now.strftime("%Y-%m-%d"),
            "notices-0-sent_at_1": "12:00:00",
            "notices-0-channel": "email",
            "notices-0-recipients": "1500",
            "notices-0-summary": "We are sorry ...",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get()
    assert incident.must_report and incident.created_by_id == officer.pk
    assert incident.notices.get().sent_by_id == officer.pk
    # Incidents are a legal record: nobody deletes them.
    delete = reverse("admin:incidents_incident_delete", args=[incident.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


@pytest.mark.django_db
def test_the_facts_are_one_list_and_an_update_changes_only_those_given():
    """The register's fields are listed once (IncidentFacts), for recording, updating and the
    admin's form alike."""
    from apps.incidents.services import INCIDENT_FIELDS

    incident = incident_create(
        facts=IncidentFacts(
            discovered_at=_at(DISCOVERED), title="t", description="d", data_items="n", **QUIET
        )
    )
    incident_update(incident=incident, facts=IncidentFacts(title="renamed"))
    incident.refresh_from_db()
    assert (incident.title, incident.description, incident.data_items) == ("renamed", "d", "n")
    assert "final_reported_on" in INCIDENT_FIELDS and "created_by_id" not in INCIDENT_FIELDS
