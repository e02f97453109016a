from __future__ import annotations

import datetime

from django.db.models import QuerySet, Sum

from apps.incidents.models import Incident


def incident_people_notified(*, incident: Incident) -> int:
    return incident.notices.aggregate(total=Sum("recipients"))["total"] or 0


def incident_ids_in_state(
    *, state: str, today: datetime.date, queryset: QuerySet[Incident] | None = None
) -> list[int]:
    """Deadline states are computed in Python from a handful of facts; the register is small."""
    queryset = Incident.objects.all() if queryset is None else queryset
    return [i.pk for i in queryset.iterator() if i.deadline_state(today=today) == state]
