"""The admin's first page: a dashboard of panels per staff role.

Core knows no other app, so each app fills its own panels from its own ``dashboard.py``
(imported by ``CoreConfig.ready``, as ``privacy.py`` and ``retention.py`` are) with
``panel_register``. A panel belongs to a role and needs a permission: a staff member sees the
panels of each role they hold (a superuser those of every role) whose permission they have, so
every number links to a list they may open.

A panel's ``build(today=)`` reads counts only, aggregated in SQL (a handful of queries, whatever
the number of customers), and returns ``Content``: figures, charts and at most one table. The
charts are drawn on the server as SVG (``apps/core/charts.py``): no script, nothing the CSP
has to allow.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import roles

# The order the roles' sections appear in for someone holding several.
ROLE_ORDER = (roles.PRIVACY_OFFICER, roles.MARKETING, roles.SUPPORT)
# The group names are data (setup_roles creates them); their headings are translated here.
ROLE_LABELS = {
    roles.PRIVACY_OFFICER: _("Privacy officer"),
    roles.MARKETING: _("Marketing"),
    roles.SUPPORT: _("Support"),
}


@dataclass(frozen=True)
class Figure:
    """A number and the filtered list it counts. ``tone`` marks what needs action first."""

    label: str
    value: int | str
    url: str = ""
    tone: str = ""  # "", "warn" or "alert"


@dataclass(frozen=True)
class Bars:
    """Horizontal bars, one per figure."""

    title: str
    figures: list[Figure]


@dataclass(frozen=True)
class Stack:
    """One coloured part of every column of a ``Columns`` chart."""

    label: str
    values: list[int]
    urls: list[str]


@dataclass(frozen=True)
class Columns:
    """Stacked columns over time (one column per period)."""

    title: str
    periods: list[str]
    stacks: list[Stack]


@dataclass(frozen=True)
class Line:
    """A count over time, one point per period, each point linking where it was counted."""

    title: str
    periods: list[str]
    values: list[int]
    urls: list[str]


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    tone: str = ""
    number: bool = False


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    empty: str = ""


@dataclass
class Content:
    figures: list[Figure] = field(default_factory=list)
    charts: list[Bars | Columns | Line] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    role: str
    permission: str
    build: Callable[..., Content]
    order: int = 100


_panels: dict[str, Panel] = {}


def panel_register(
    key: str,
    *,
    title: str,
    role: str,
    permission: str,
    build: Callable[..., Content],
    order: int = 100,
) -> None:
    if role not in ROLE_ORDER:
        raise ValueError(f"unknown role {role!r} for dashboard panel {key!r}")
    _panels[key] = Panel(key, title, role, permission, build, order)


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda p: (ROLE_ORDER.index(p.role), p.order, p.key))


def user_roles(user) -> list[str]:
    if user.is_superuser:
        return list(ROLE_ORDER)
    held = set(user.groups.values_list("name", flat=True))
    return [role for role in ROLE_ORDER if role in held]


@dataclass
class Section:
    role: str
    panels: list[tuple[Panel, Content]]

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


def dashboard_for(user, *, today: datetime.date | None = None) -> list[Section]:
    """The sections (one per role held, in ``ROLE_ORDER``) with their built panels."""
    today = today or timezone.localdate()
    sections = []
    for role in user_roles(user):
        built = [
            (panel, panel.build(today=today))
            for panel in panels()
            if panel.role == role and user.has_perm(panel.permission)
        ]
        if built:
            sections.append(Section(role, built))
    return sections


def month_starts(*, today: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the last ``count`` months, oldest first, this month last."""
    starts = [today.replace(day=1)]
    while len(starts) < count:
        starts.append((starts[-1] - datetime.timedelta(days=1)).replace(day=1))
    return starts[::-1]


def month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
