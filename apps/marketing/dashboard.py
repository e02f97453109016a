"""Marketing's dashboard panels (apps/core/dashboard.py): how the last campaigns went, and how
many people consent to the mail magazines' purposes over time. Counts only: marketing never
sees who.

- Campaigns: one aggregate query over the last campaigns' deliveries. The unsubscribe rate is
  the share of the people a campaign reached who unsubscribed from that magazine within
  ``UNSUBSCRIBE_WINDOW`` of receiving it.
- Audience: today's consenting people per purpose (consent states) and the ledger's net
  grants per month since (one query each), walked back from today: the ledger records a
  change only, never the same state twice (apps/consents/services/ledger.py).
"""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.consents.models import ConsentEvent, ConsentState, Purpose
from apps.core import roles
from apps.core.dashboard import (
    Cell,
    Columns,
    Content,
    Line,
    Stack,
    Table,
    month_after,
    month_starts,
    panel_register,
)
from apps.marketing.models import Campaign, Delivery, MailMagazine

CAMPAIGNS = 6
MONTHS = 6
UNSUBSCRIBE_WINDOW = datetime.timedelta(days=7)


def campaign_results(*, limit: int = CAMPAIGNS) -> list[Campaign]:
    """The last campaigns sent (or sending), newest first, each annotated with its counts:
    ``sent``, ``skipped``, ``failed``, ``bounced`` and ``unsubscribed``."""
    Status = Delivery.Status
    reached = Q(deliveries__status=Status.SENT)
    return list(
        Campaign.objects.filter(status__in=[Campaign.Status.SENDING, Campaign.Status.SENT])
        .order_by("-started_at", "-pk")
        .annotate(
            sent=Count("deliveries", filter=reached),
            skipped=Count("deliveries", filter=Q(deliveries__status=Status.SKIPPED)),
            failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
            bounced=Count("deliveries", filter=Q(deliveries__feedback=Delivery.Feedback.BOUNCED)),
            unsubscribed=Count(
                "deliveries",
                filter=reached
                & Q(deliveries__subscription__unsubscribed_at__gte=F("deliveries__sent_at"))
                & Q(
                    deliveries__subscription__unsubscribed_at__lt=F("deliveries__sent_at")
                    + UNSUBSCRIBE_WINDOW
                ),
            ),
        )[:limit]
    )


def unsubscribe_rate(campaign: Campaign) -> float:
    return campaign.unsubscribed / campaign.sent if campaign.sent else 0.0


def consenting_over_time(
    *, today: datetime.date, months: int = MONTHS
) -> tuple[list[datetime.date], dict[int, list[int]]]:
    """The first days of the last ``months`` months and, per purpose of an active mail
    magazine, how many customers consented at the end of each month (today for this month)."""
    starts = month_starts(today=today, count=months)
    purposes = list(
        MailMagazine.objects.filter(is_active=True).values_list("purpose_id", flat=True).distinct()
    )
    now = dict(
        ConsentState.objects.filter(
            purpose_id__in=purposes, customer__isnull=False, status=ConsentState.Status.GRANTED
        )
        .values_list("purpose_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    since = timezone.make_aware(datetime.datetime.combine(month_after(starts[0]), datetime.time()))
    net: dict[tuple[int, datetime.date], int] = {}
    rows = (
        ConsentEvent.objects.filter(
            purpose_id__in=purposes,
            customer__isnull=False,
            occurred_at__gte=since,
            action__in=[ConsentEvent.Action.GRANT, ConsentEvent.Action.WITHDRAW],
        )
        .annotate(month=TruncMonth("occurred_at"))
        .values_list("purpose_id", "month", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    for purpose_id, month, action, n in rows:
        day = timezone.localtime(month).date() if isinstance(month, datetime.datetime) else month
        sign = 1 if action == ConsentEvent.Action.GRANT else -1
        net[(purpose_id, day)] = net.get((purpose_id, day), 0) + sign * n
    series = {}
    for purpose_id in purposes:
        value = now.get(purpose_id, 0)
        values = [value]
        # The end of month i is today's count less what changed in the months after it.
        for start in reversed(starts[1:]):
            value -= net.get((purpose_id, start), 0)
            values.append(value)
        series[purpose_id] = values[::-1]
    return starts, series


def campaigns_panel(*, today: datetime.date) -> Content:
    campaigns = campaign_results()
    urls = [reverse("admin:marketing_campaign_change", args=[c.pk]) for c in campaigns]
    oldest_first = list(zip(campaigns, urls, strict=True))[::-1]

    def when(campaign):
        started = campaign.started_at or campaign.created_at
        return date_format(timezone.localtime(started).date(), "SHORT_DATE_FORMAT")

    rows = [
        [
            Cell(campaign.subject, url),
            Cell(when(campaign)),
            *(
                Cell(str(getattr(campaign, key)), url, number=True)
                for key in ("sent", "skipped", "failed", "bounced")
            ),
            Cell(f"{number_format(unsubscribe_rate(campaign) * 100, 1)}%", url, number=True),
        ]
        for campaign, url in zip(campaigns, urls, strict=True)
    ]
    stacks = [
        Stack(label, [getattr(c, key) for c, _u in oldest_first], [u for _c, u in oldest_first])
        for key, label in (
            ("sent", gettext("Sent")),
            ("skipped", gettext("Skipped")),
            ("failed", gettext("Failed")),
        )
    ]
    return Content(
        charts=[
            Columns(
                gettext("Deliveries of the last campaigns"),
                [when(c) for c, _u in oldest_first],
                stacks,
            )
        ]
        if campaigns
        else [],
        table=Table(
            [
                gettext("Campaign"),
                gettext("Started"),
                gettext("Sent"),
                gettext("Skipped"),
                gettext("Failed"),
                gettext("Bounces"),
                gettext("Unsubscribe rate"),
            ],
            rows,
            empty=gettext("No campaign has been sent yet."),
        ),
    )


def audience_panel(*, today: datetime.date) -> Content:
    starts, series = consenting_over_time(today=today)
    purposes = Purpose.objects.in_bulk(list(series))
    charts = []
    for purpose_id, values in series.items():
        url = reverse("admin:consents_purpose_change", args=[purpose_id])
        charts.append(
            Line(
                gettext("Customers consenting to “%(purpose)s”")
                % {"purpose": purposes[purpose_id].name},
                [date_format(day, "M") for day in starts],
                values,
                [url] * len(values),
            )
        )
    return Content(charts=charts)


panel_register(
    "campaigns",
    title=_("Campaigns"),
    role=roles.MARKETING,
    permission="marketing.view_campaign",
    build=campaigns_panel,
    order=10,
)
panel_register(
    "audience",
    title=_("Consenting audience"),
    role=roles.MARKETING,
    permission="consents.view_purpose",
    build=audience_panel,
    order=20,
)
