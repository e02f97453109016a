"""The personal-data registry.

Each app that holds personal data registers, from its own ``privacy.py``, an exporter and an
eraser for one person (a ``customers.Customer`` id), and declares which model fields it covers.
``privacy_requests`` and the retention jobs run whatever is registered, so no app ever reaches
into another app's tables to export or erase (the way WordPress core lets each plugin register
its personal-data exporters and erasers).

Each app also speaks for its data in people's words, so that adding a personal field is a
change to the owning app alone: its exporter returns titled sections (`Section`) whose columns
carry their labels (the fields' verbose names unless overridden) and how codes and amounts read;
its handler gives a label for each count its eraser reports where the model's name would not
say it; and its erasers' order is declared (`runs_after`), checked when it registers. The
disclosure page, the package, the notices and the admin's erasure table only render that.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils.functional import Promise
from django.utils.text import capfirst

from apps.core.locks import PersonLocks

StrOrPromise = str | Promise


@dataclass
class ErasureReport:
    """What an eraser did (or, in a dry run, would do), as counts and reasons, never values."""

    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    # "app_label.ModelName" -> (count, why it is kept, until when); in words: `labels`
    kept: dict[str, tuple[int, str, datetime.date | None]] = field(default_factory=dict)

    def merge(self, other: ErasureReport) -> None:
        for mine, theirs in (
            (self.deleted, other.deleted),
            (self.anonymised, other.anonymised),
            (self.kept, other.kept),
        ):
            mine.update(theirs)

    def add(self, other: ErasureReport) -> None:
        """Add another person's report to this one (a batch of people): counts add up, and
        what is kept is kept until the latest of their dates."""
        for mine, theirs in ((self.deleted, other.deleted), (self.anonymised, other.anonymised)):
            for key, count in theirs.items():
                # None: a delete that matched nothing by construction (SQLite's raw delete).
                mine[key] = (mine.get(key) or 0) + (count or 0)
        for key, (count, why, until) in other.kept.items():
            if key in self.kept:
                before, _, was = self.kept[key]
                count += before
                until = max(d for d in (was, until) if d) if (was or until) else None
            self.kept[key] = (count, why, until)

    @property
    def changed_anything(self) -> bool:
        return any(self.deleted.values()) or any(self.anonymised.values())

    @property
    def labels(self) -> dict[str, str]:
        """Each thing counted, in people's words (the labels its handler registered)."""
        keys = [*self.deleted, *self.anonymised, *self.kept]
        return {key: erasure_label(key) for key in keys}


# exporter(customer_id) -> the sections it holds about the person (declared ones, with rows).
Exporter = Callable[[int], Iterable["Section"]]
# eraser(person, *, dry_run) where person is the customers.Customer row, locked (see below).
Eraser = Callable[..., ErasureReport]
# erase_many(people, *, dry_run) where people are the customers.Customer rows, locked, of a batch
# (the retention job's): what `eraser` does to each of them, in a fixed number of statements
# whatever their number, reporting their counts added up (ErasureReport.add).
BatchEraser = Callable[..., ErasureReport]
# restricter(customer_id, scope, *, active) -> how many things it changed. Scopes below.
Restricter = Callable[..., int]
# A column's codes in words: a model's choices, a mapping, or a function returning one (called
# once per page, for labels that live in the database, such as the purposes of use).
Choices = type[models.Choices] | Mapping[Any, Any] | Callable[[], Mapping[Any, Any]]


@dataclass(frozen=True)
class Column:
    """One field of a section: its label in people's words and how its value reads. A value
    that is a record (a dict) or a list of records is described by `columns` (or a function
    returning them, to borrow another section's columns)."""

    key: str
    label: StrOrPromise
    choices: Choices | None = None
    money: bool = False
    columns: tuple[Column, ...] | Callable[[], tuple[Column, ...]] = ()
    # The value is a record of [before, after] pairs (a correction's applied changes).
    before_after: bool = False

    def children(self) -> tuple[Column, ...]:
        return self.columns() if callable(self.columns) else self.columns

    def labels(self) -> Mapping[Any, Any] | None:
        if self.choices is None:
            return None
        if isinstance(self.choices, type) and issubclass(self.choices, models.Choices):
            return dict(self.choices.choices)
        return self.choices if isinstance(self.choices, Mapping) else self.choices()


def columns_of(model: type[models.Model], *names: str, **overrides: Column) -> tuple[Column, ...]:
    """Columns for fields of `model`, labelled by their verbose names and with their choices;
    `overrides` replace a column where the people-facing word differs from the admin's."""
    columns = []
    for name in names:
        if name in overrides:
            columns.append(overrides[name])
            continue
        field = model._meta.get_field(name)
        choices = dict(field.flatchoices) if field.choices else None
        columns.append(Column(name, capfirst(field.verbose_name), choices=choices))
    return tuple(columns)


@dataclass(frozen=True)
class Section:
    """A titled part of what an app holds about a person, as WordPress's exporters give a
    `group_label` and name/value pairs: `rows` are raw values (for JSON and CSV) keyed by the
    columns' keys; the columns say how each reads (for the page)."""

    key: str
    title: StrOrPromise
    columns: tuple[Column, ...] = ()
    explanation: StrOrPromise = ""
    rows: tuple[dict, ...] = ()

    def with_rows(self, rows: Iterable[dict]) -> Section:
        return replace(self, rows=tuple(rows))

    def column(self, key: str) -> Column | None:
        return next((column for column in self.columns if column.key == key), None)

    @property
    def headers(self) -> dict[str, StrOrPromise]:
        """Every label this section declares, nested columns too, by (dotted) key."""
        found: dict[str, StrOrPromise] = {}

        def walk(columns: tuple[Column, ...], prefix: str) -> None:
            for column in columns:
                found[prefix + column.key] = column.label
                walk(column.children(), f"{prefix}{column.key}.")

        walk(self.columns, "")
        return found


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
    # Every section the exporter may return, in the order the disclosure shows them.
    sections: tuple[Section, ...] = ()
    # Handlers whose erasers must run before this one's (the customer row goes last: the
    # others still read it).
    runs_after: tuple[str, ...] = ()
    # Handlers whose erasers must run after this one's: what a new app says so that it runs
    # before the customer row is emptied, without editing the customers app.
    runs_before: tuple[str, ...] = ()
    # "app_label.ModelName" -> what the eraser's count of it is, in people's words, where the
    # model's plural name would not say it (gettext_lazy).
    labels: Mapping[str, StrOrPromise] = field(default_factory=dict)
    restricter: Restricter | None = None
    # The batch form of `eraser` (set-based SQL over many people); without it a batch runs
    # `eraser` once per person.
    erase_many: BatchEraser | None = None


# In the order the apps registered (the order of INSTALLED_APPS: the person first), which is
# the order of the disclosure page; erasers run in the order `runs_after` declares.
_registry: dict[str, PersonalDataHandler] = {}
# Once every installed app has registered, a name in `runs_after` must be known at once.
_closed = False
# Loads and locks the person an erasure is about (registered by the customers app): taken before
# any eraser runs, so nothing new (an order, a consent) can be written for them halfway through,
# and loaded once for every eraser. Returns apps.core.locks.PersonLocks (the customer row, their
# subscriptions and their privacy requests).
_person_lock: Callable[[int], PersonLocks] | None = None
# The same for a batch of people: their rows, locked, in order of id (the people no longer
# there are absent).
_people_lock: Callable[[list[int]], list[Any]] | None = None


def register_person_lock(
    lock: Callable[[int], PersonLocks], *, many: Callable[[list[int]], list[Any]] | None = None
) -> None:
    global _person_lock, _people_lock  # set once, when the customers app loads
    _person_lock = lock
    _people_lock = many


def register(
    name: str,
    *,
    exporter: Exporter,
    eraser: Eraser,
    covers: dict[str, tuple[str, ...]],
    sections: tuple[Section, ...] = (),
    runs_after: tuple[str, ...] = (),
    runs_before: tuple[str, ...] = (),
    labels: Mapping[str, StrOrPromise] | None = None,
    restricter: Restricter | None = None,
    erase_many: BatchEraser | None = None,
) -> None:
    """Add an app's handler. A cycle in `runs_after`/`runs_before` raises here; a name no app
    registered raises here too once the registry is closed (at start-up, `registry_close`)."""
    handler = PersonalDataHandler(
        name=name,
        exporter=exporter,
        eraser=eraser,
        covers=covers,
        sections=tuple(sections),
        runs_after=tuple(runs_after),
        runs_before=tuple(runs_before),
        labels=dict(labels or {}),
        restricter=restricter,
        erase_many=erase_many,
    )
    previous = _registry.get(name)
    _registry[name] = handler
    try:
        if _closed:
            _check_known()
        handlers()  # raises on a cycle
    except ImproperlyConfigured:
        if previous is None:
            del _registry[name]
        else:
            _registry[name] = previous
        raise


def registry_close() -> None:
    """Every installed app has registered (CoreConfig.ready): every name `runs_after` gives
    must be known now."""
    global _closed
    _check_known()
    _closed = True


def _check_known() -> None:
    for handler in _registry.values():
        unknown = {*handler.runs_after, *handler.runs_before} - set(_registry)
        if unknown:
            raise ImproperlyConfigured(
                f"personal-data handler {handler.name!r} is ordered against unknown "
                f"{sorted(unknown)}"
            )


def _after(handler: PersonalDataHandler) -> set[str]:
    """The registered handlers that must run before `handler`."""
    before_it = {h.name for h in _registry.values() if handler.name in h.runs_before}
    return ({*handler.runs_after} & set(_registry)) | before_it


def handlers() -> list[PersonalDataHandler]:
    """Every handler in the order its eraser runs: after those it names in `runs_after` (and
    those naming it in `runs_before`), and otherwise in the order they registered."""
    done: list[PersonalDataHandler] = []
    waiting = list(_registry.values())
    while waiting:
        known = {handler.name for handler in done}
        ready = next((h for h in waiting if _after(h) <= known), None)
        if ready is None:
            raise ImproperlyConfigured(
                "personal-data handlers are ordered in a cycle: "
                + ", ".join(f"{h.name} after {sorted(_after(h))}" for h in waiting)
            )
        done.append(ready)
        waiting.remove(ready)
    return done


def unregister(name: str) -> None:
    """Remove a handler (tests that register one of their own)."""
    _registry.pop(name, None)


def declared_sections() -> list[tuple[str, Section]]:
    """Every section every handler declares, in the order of the disclosure page."""
    return [
        (handler.name, section) for handler in _registry.values() for section in handler.sections
    ]


def erasure_label(key: str) -> str:
    """What an eraser counted ("app_label.ModelName"), as people read it: the label its
    handler gives, or the model's plural name (translated), or the key itself."""
    for handler in _registry.values():
        if key in handler.labels:
            return str(handler.labels[key])
    try:
        return str(apps.get_model(key)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return key


def covered_fields() -> dict[str, set[str]]:
    covered: dict[str, set[str]] = {}
    for handler in handlers():
        for model_label, fields in handler.covers.items():
            covered.setdefault(model_label, set()).update(fields)
    return covered


def personal_data_sections(*, customer_id: int) -> list[tuple[str, Section]]:
    """Everything every app holds about one person, as (handler name, section with rows), in
    the order of the disclosure page."""
    return [
        (handler.name, section)
        for handler in _registry.values()
        for section in handler.exporter(customer_id)
    ]


def sections_as_data(sections: list[tuple[str, Section]]) -> dict[str, dict[str, list[dict]]]:
    """The raw values of `sections` by handler and section key (data.json), handlers in the
    order their erasers run, as the package has always listed them."""
    by_handler: dict[str, dict[str, list[dict]]] = {}
    for name, section in sections:
        by_handler.setdefault(name, {})[section.key] = list(section.rows)
    return {h.name: by_handler[h.name] for h in handlers() if h.name in by_handler}


def personal_data_export(*, customer_id: int) -> dict[str, dict[str, list[dict]]]:
    """Everything every app holds about one person, keyed by handler name, then section key."""
    return sections_as_data(personal_data_sections(customer_id=customer_id))


def personal_data_lock(*, customer_id: int) -> PersonLocks:
    """Lock the person the way their erasure does (the customer row, then their subscriptions
    and their privacy requests, apps/core/locks), until the caller's transaction ends, and
    return those rows: for a caller that needs one of them locked too (the request workflow,
    the request it carries out) and then erases with ``personal_data_erase(locked=…)``, so the
    person is locked and loaded once."""
    if _person_lock is None:
        raise RuntimeError("no app registered the person lock (apps.customers.privacy)")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("personal_data_lock() outside a transaction would release its locks")
    return _person_lock(customer_id)


def personal_data_erase(
    *, customer_id: int, dry_run: bool = False, locked: PersonLocks | None = None
) -> ErasureReport:
    """Lock the person, then run every registered eraser, in one transaction. A dry run only
    counts (each eraser reads; none writes). `locked`: what ``personal_data_lock`` returned for
    this person in the caller's (still open) transaction, which is then not taken again."""
    if _person_lock is None:
        raise RuntimeError("no app registered the person lock (apps.customers.privacy)")
    if locked is not None:
        if locked.customer.pk != customer_id:
            raise ValueError("`locked` holds another person's rows")
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("`locked` rows are locked only inside the caller's transaction")
    report = ErasureReport()
    with transaction.atomic():
        person = (locked if locked is not None else _person_lock(customer_id)).customer
        for handler in handlers():
            report.merge(handler.eraser(person, dry_run=dry_run))
    return report


def personal_data_erase_many(*, customer_ids: list[int], dry_run: bool = False) -> ErasureReport:
    """`personal_data_erase` for a batch of people at once (the retention job), in one
    transaction: lock them all, then run each handler's `erase_many` over them, or its
    per-person eraser for each of them where it registered none. Returns their reports added
    up. People no longer there are skipped."""
    if _people_lock is None:
        raise RuntimeError("no app registered the people lock (apps.customers.privacy)")
    report = ErasureReport()
    if not customer_ids:
        return report
    with transaction.atomic():
        people = _people_lock(sorted(set(customer_ids)))
        if not people:
            return report
        for handler in handlers():
            if handler.erase_many is not None:
                report.add(handler.erase_many(people, dry_run=dry_run))
                continue
            for person in people:
                report.add(handler.eraser(person, dry_run=dry_run))
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
