"""The privacy officer's dashboard panel of requests (apps/core/dashboard.py).

Three aggregate queries, whatever the number of requests: the open ones by state, the
overdue and soon due among them, and the last months' requests by kind.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core import roles
from apps.core.dashboard import Bars, Columns, Content, Figure, Stack, month_starts, panel_register
from apps.privacy_requests.models import DUE_SOON_DAYS, OPEN_STATUSES, Kind, PrivacyRequest, Status

MONTHS = 6


def _list(**params) -> str:
    url = reverse("admin:privacy_requests_privacyrequest_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def privacy_request_deadline_counts(*, today: datetime.date) -> dict[str, int]:
    """Open requests: all, past their deadline, and due within DUE_SOON_DAYS days."""
    return PrivacyRequest.objects.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_on__lt=today)),
        soon=Count(
            "id",
            filter=Q(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS)),
        ),
    )


def privacy_requests_open_by_status() -> dict[str, int]:
    """Every open state, in the workflow's order, with its count (zero included)."""
    counts = dict(
        PrivacyRequest.objects.filter(status__in=OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {status: counts.get(status, 0) for status in Status.values if status in OPEN_STATUSES}


def privacy_requests_per_month_by_kind(
    *, today: datetime.date, months: int = MONTHS
) -> tuple[list[datetime.date], dict[str, list[int]]]:
    """The first days of the last ``months`` months and, per kind received in them, the count
    per month (in the shop's time zone)."""
    starts = month_starts(today=today, count=months)
    since = timezone.make_aware(datetime.datetime.combine(starts[0], datetime.time()))
    rows = (
        PrivacyRequest.objects.filter(received_at__gte=since)
        .annotate(month=TruncMonth("received_at"))
        .values_list("month", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_kind: dict[str, list[int]] = {}
    for month, kind, n in rows:
        day = timezone.localtime(month).date() if isinstance(month, datetime.datetime) else month
        if day in starts:
            per_kind.setdefault(kind, [0] * len(starts))[starts.index(day)] += n
    ordered = {kind: per_kind[kind] for kind in Kind.values if kind in per_kind}
    return starts, ordered


def requests_panel(*, today: datetime.date) -> Content:
    deadlines = privacy_request_deadline_counts(today=today)
    by_status = privacy_requests_open_by_status()
    starts, per_kind = privacy_requests_per_month_by_kind(today=today)
    labels = dict(Kind.choices)
    return Content(
        figures=[
            Figure(
                gettext("Overdue"),
                deadlines["overdue"],
                _list(deadline="overdue"),
                "alert" if deadlines["overdue"] else "",
            ),
            Figure(
                gettext("Due within %(days)s days") % {"days": DUE_SOON_DAYS},
                deadlines["soon"],
                _list(deadline="soon"),
                "warn" if deadlines["soon"] else "",
            ),
            Figure(gettext("All open"), deadlines["open"], _list(deadline="open")),
        ],
        charts=[
            Bars(
                gettext("Open requests by state"),
                [
                    Figure(str(Status(status).label), n, _list(status__exact=status))
                    for status, n in by_status.items()
                ],
            ),
            Columns(
                gettext("Requests received per month, by kind"),
                [date_format(day, "M") for day in starts],
                [
                    Stack(
                        str(labels[kind]),
                        counts,
                        [
                            _list(
                                kind__exact=kind,
                                received_at__year=d.year,
                                received_at__month=d.month,
                            )
                            for d in starts
                        ],
                    )
                    for kind, counts in per_kind.items()
                ],
            ),
        ],
    )


panel_register(
    "privacy_requests",
    title=_("Privacy requests"),
    role=roles.PRIVACY_OFFICER,
    permission="privacy_requests.view_privacyrequest",
    build=requests_panel,
    order=10,
)
