"""The privacy officer's dashboard panel of propagation tasks (apps/core/dashboard.py): the
shop's other systems to be told of an erasure, correction or stop by hand. Two aggregate
queries; the links use the task list's own queue filter."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core import roles
from apps.core.dashboard import Bars, Content, Figure, panel_register
from apps.integration.outbound.models import PropagationTask

State = PropagationTask.State
OPEN_STATES = [State.OPEN, State.SENT, State.CONFIRMING]


def _list(**params) -> str:
    return f"{reverse('admin:integration_propagationtask_changelist')}?{urlencode(params)}"


def propagation_counts(*, today: datetime.date) -> dict[str, int]:
    """Open manual tasks, all open tasks and the overdue ones, as the list's queue filter
    counts them."""
    limit = timezone.now() - datetime.timedelta(days=settings.PROPAGATION_OVERDUE_DAYS)
    return PropagationTask.objects.filter(state__in=OPEN_STATES).aggregate(
        manual=Count("id", filter=Q(state=State.OPEN)),
        open=Count("id"),
        overdue=Count("id", filter=Q(due_on__lt=today) | Q(created_at__lt=limit)),
    )


def propagation_manual_by_system() -> list[tuple[int, str, int]]:
    """(system id, system name, open manual tasks) for each system that has some."""
    return list(
        PropagationTask.objects.filter(state=State.OPEN)
        .values_list("system_id", "system__name")
        .annotate(n=Count("id"))
        .order_by("-n", "system__name")
    )


def propagation_panel(*, today: datetime.date) -> Content:
    counts = propagation_counts(today=today)
    return Content(
        figures=[
            Figure(
                gettext("Open manual tasks"),
                counts["manual"],
                _list(queue="manual"),
                "warn" if counts["manual"] else "",
            ),
            Figure(
                gettext("Overdue"),
                counts["overdue"],
                _list(queue="overdue"),
                "alert" if counts["overdue"] else "",
            ),
            Figure(gettext("All open tasks"), counts["open"], _list(queue="open")),
        ],
        charts=[
            Bars(
                gettext("Open manual tasks by system"),
                [
                    Figure(name, n, _list(queue="manual", system__id__exact=pk))
                    for pk, name, n in propagation_manual_by_system()
                ],
            )
        ],
    )


panel_register(
    "propagation",
    title=_("Propagation to other systems"),
    role=roles.PRIVACY_OFFICER,
    permission="integration.view_propagationtask",
    build=propagation_panel,
    order=30,
)
