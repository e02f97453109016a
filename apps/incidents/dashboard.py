"""The privacy officer's dashboard panel of incidents and their report deadlines
(apps/core/dashboard.py, APPI Art. 26; the deadlines come from apps/incidents/rules.py).

Only incidents whose final report is not yet sent, or that involve people in the EU/EEA (the
GDPR's 72 hours and communication, rules.py), are read (one query): the register is small and a
deadline state is computed from a handful of facts, as the register's own filter does.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core import roles
from apps.core.dashboard import Cell, Content, Figure, Table, panel_register
from apps.incidents.models import Incident

ROWS = 8
State = Incident.DeadlineState
TONES = {State.OVERDUE: "alert", State.DUE_SOON: "warn"}
URGENCY = [State.OVERDUE, State.DUE_SOON, State.OPEN]


def incidents_pending_report(*, today: datetime.date) -> list[tuple[Incident, str]]:
    """Incidents with a report still to send, the most urgent first, with their state."""
    pending = []
    candidates = Incident.objects.filter(Q(final_reported_on=None) | Q(involves_eu_people=True))
    for incident in candidates.order_by("discovered_at"):
        state = incident.deadline_state(today=today)
        if state in URGENCY:
            pending.append((incident, state))
    return sorted(pending, key=lambda pair: URGENCY.index(pair[1]))


def _list(**params) -> str:
    url = reverse("admin:incidents_incident_changelist")
    return f"{url}?{urlencode(params)}"


def _due(
    day: datetime.date, done: datetime.date | None, today: datetime.date, *, required: bool
) -> Cell:
    if not required:  # only the GDPR's deadlines apply
        return Cell("-")
    if done is not None:
        return Cell(gettext("sent %(date)s") % {"date": date_format(done, "SHORT_DATE_FORMAT")})
    tone = "alert" if day < today else ""
    return Cell(date_format(day, "SHORT_DATE_FORMAT"), tone=tone)


def incidents_panel(*, today: datetime.date) -> Content:
    pending = incidents_pending_report(today=today)
    counts = {state: sum(1 for _i, s in pending if s == state) for state in URGENCY}
    rows = [
        [
            Cell(incident.title, reverse("admin:incidents_incident_change", args=[incident.pk])),
            _due(
                incident.preliminary_due,
                incident.preliminary_reported_on,
                today,
                required=incident.must_report,
            ),
            _due(
                incident.final_due, incident.final_reported_on, today, required=incident.must_report
            ),
            Cell(str(State(state).label), _list(deadline=state), TONES.get(state, "")),
        ]
        for incident, state in pending[:ROWS]
    ]
    return Content(
        figures=[
            Figure(
                str(State.OVERDUE.label),
                counts[State.OVERDUE],
                _list(deadline=State.OVERDUE),
                "alert" if counts[State.OVERDUE] else "",
            ),
            Figure(
                str(State.DUE_SOON.label),
                counts[State.DUE_SOON],
                _list(deadline=State.DUE_SOON),
                "warn" if counts[State.DUE_SOON] else "",
            ),
            Figure(str(State.OPEN.label), counts[State.OPEN], _list(deadline=State.OPEN)),
        ],
        table=Table(
            [
                gettext("Incident"),
                gettext("Preliminary report due"),
                gettext("Final report due"),
                gettext("State"),
            ],
            rows,
            empty=gettext("No report is waiting."),
        ),
    )


panel_register(
    "incidents",
    title=_("Incidents and report deadlines"),
    role=roles.PRIVACY_OFFICER,
    permission="incidents.view_incident",
    build=incidents_panel,
    order=20,
)
