"""The personal-data registry.

Each app that holds personal data registers, from its own ``privacy.py``, an exporter and an
eraser for one person (a ``customers.Customer`` id), and declares which model fields it covers.
``privacy_requests`` and the retention jobs run whatever is registered, so no app ever reaches
into another app's tables to export or erase (the way WordPress core lets each plugin register
its personal-data exporters and erasers).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction


@dataclass
class ErasureReport:
    """What an eraser did (or, in a dry run, would do), as counts and reasons, never values."""

    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    # label -> (count, why it is kept, until when)
    kept: dict[str, tuple[int, str, datetime.date | None]] = field(default_factory=dict)

    def merge(self, other: ErasureReport) -> None:
        for mine, theirs in (
            (self.deleted, other.deleted),
            (self.anonymised, other.anonymised),
            (self.kept, other.kept),
        ):
            mine.update(theirs)

    @property
    def changed_anything(self) -> bool:
        return any(self.deleted.values()) or any(self.anonymised.values())


Exporter = Callable[[int], dict[str, list[dict]]]
# eraser(person, *, dry_run) where person is the customers.Customer row, locked (see below).
Eraser = Callable[..., ErasureReport]
# restricter(customer_id, scope, *, active) -> how many things it changed. Scopes below.
Restricter = Callable[..., int]


class RestrictionScope:
    """What a person asked us to stop (APPI Art. 35): all use beyond what the law requires, or
    only provision to third parties. Each app applies the scopes that concern its data."""

    STOP_USE = "stop_use"
    STOP_PROVISION = "stop_provision"
    ALL = (STOP_USE, STOP_PROVISION)


@dataclass(frozen=True)
class PersonalDataHandler:
    name: str
    exporter: Exporter
    eraser: Eraser
    # "app_label.ModelName" -> the fields of that model holding personal data.
    covers: dict[str, tuple[str, ...]]
    # Lower runs first: order snapshots are erased before the customer row they point to.
    order: int = 100
    restricter: Restricter | None = None


_registry: dict[str, PersonalDataHandler] = {}
# Loads and locks the person an erasure is about (registered by the customers app): taken before
# any eraser runs, so nothing new (an order, a consent) can be written for them halfway through,
# and loaded once for every eraser.
_person_lock: Callable[[int], Any] | None = None


def register_person_lock(lock: Callable[[int], Any]) -> None:
    global _person_lock  # set once, when the customers app loads
    _person_lock = lock


def register(
    name: str,
    *,
    exporter: Exporter,
    eraser: Eraser,
    covers: dict[str, tuple[str, ...]],
    order: int = 100,
    restricter: Restricter | None = None,
) -> None:
    _registry[name] = PersonalDataHandler(
        name=name,
        exporter=exporter,
        eraser=eraser,
        covers=covers,
        order=order,
        restricter=restricter,
    )


def handlers() -> list[PersonalDataHandler]:
    return sorted(_registry.values(), key=lambda h: (h.order, h.name))


def covered_fields() -> dict[str, set[str]]:
    covered: dict[str, set[str]] = {}
    for handler in handlers():
        for model_label, fields in handler.covers.items():
            covered.setdefault(model_label, set()).update(fields)
    return covered


def personal_data_export(*, customer_id: int) -> dict[str, dict[str, list[dict]]]:
    """Everything every app holds about one person, keyed by handler name."""
    return {handler.name: handler.exporter(customer_id) for handler in handlers()}


def personal_data_erase(*, customer_id: int, dry_run: bool = False) -> ErasureReport:
    """Lock the person, then run every registered eraser, in one transaction. A dry run only
    counts (each eraser reads; none writes)."""
    if _person_lock is None:
        raise RuntimeError("no app registered the person lock (apps.customers.privacy)")
    report = ErasureReport()
    with transaction.atomic():
        person = _person_lock(customer_id)
        for handler in handlers():
            report.merge(handler.eraser(person, dry_run=dry_run))
    return report


def personal_data_restrict(*, customer_id: int, scope: str, active: bool = True) -> dict[str, int]:
    """Apply (or, with active=False, lift) a stop-of-use or stop-of-provision restriction in
    every app that registered a restricter, in one transaction. Idempotent."""
    if scope not in RestrictionScope.ALL:
        raise ValueError(f"unknown restriction scope {scope!r}")
    changed = {}
    with transaction.atomic():
        for handler in handlers():
            if handler.restricter is not None:
                changed[handler.name] = handler.restricter(customer_id, scope, active=active)
    return changed
