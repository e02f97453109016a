"""Support's dashboard panels (apps/core/dashboard.py): the inquiries waiting for an answer and
the customers restricted for a terms violation. Two aggregate queries."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.core import roles
from apps.core.dashboard import Bars, Content, Figure, panel_register
from apps.customers.models import Customer, Inquiry


def _inquiries(**params) -> str:
    return f"{reverse('admin:customers_inquiry_changelist')}?{urlencode(params)}"


def inquiries_waiting() -> tuple[dict[str, int], datetime.datetime | None]:
    """New (unanswered) inquiries per topic, every topic listed, and when the oldest came."""
    rows = (
        Inquiry.objects.filter(status=Inquiry.Status.NEW)
        .values_list("topic")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .order_by()
    )
    counts = dict.fromkeys(Inquiry.Topic.values, 0)
    oldest = None
    for topic, n, first in rows:
        counts[topic] = n
        oldest = first if oldest is None else min(oldest, first)
    return counts, oldest


def customers_restricted_count() -> dict[str, int]:
    return Customer.objects.aggregate(
        restricted=Count("id", filter=Q(status=Customer.Status.RESTRICTED))
    )


def inquiries_panel(*, today: datetime.date) -> Content:
    counts, oldest = inquiries_waiting()
    waiting = sum(counts.values())
    days = (today - timezone.localtime(oldest).date()).days if oldest else 0
    figures = [
        Figure(
            gettext("Waiting for an answer"),
            waiting,
            _inquiries(status__exact=Inquiry.Status.NEW),
            "warn" if waiting else "",
        )
    ]
    if oldest:
        figures.append(
            Figure(
                gettext("Oldest waiting"),
                ngettext("%(days)s day", "%(days)s days", days) % {"days": days},
                _inquiries(status__exact=Inquiry.Status.NEW),
                "alert" if days >= 3 else "",
            )
        )
    labels = dict(Inquiry.Topic.choices)
    return Content(
        figures=figures,
        charts=[
            Bars(
                gettext("Waiting inquiries by topic"),
                [
                    Figure(
                        str(labels[topic]),
                        n,
                        _inquiries(status__exact=Inquiry.Status.NEW, topic__exact=topic),
                    )
                    for topic, n in counts.items()
                ],
            )
        ],
    )


def restricted_panel(*, today: datetime.date) -> Content:
    counts = customers_restricted_count()
    url = reverse("admin:customers_customer_changelist")
    return Content(
        figures=[
            Figure(
                gettext("Restricted customers"),
                counts["restricted"],
                f"{url}?{urlencode({'status__exact': Customer.Status.RESTRICTED})}",
            )
        ]
    )


panel_register(
    "inquiries",
    title=_("Inquiries"),
    role=roles.SUPPORT,
    permission="customers.view_inquiry",
    build=inquiries_panel,
    order=10,
)
panel_register(
    "restricted_customers",
    title=_("Restricted customers"),
    role=roles.SUPPORT,
    permission="customers.view_customer",
    build=restricted_panel,
    order=20,
)
