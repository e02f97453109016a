"""The ledger for many events at once (a storefront's bulk call, an import): the same rules as
``ledger._record`` — append-only events, the current state updated in the same transaction, a
member's opt-in pending until their address is confirmed, no grant for an erased person — in a
fixed number of statements for the whole batch instead of about ten per event.

Events are stamped with the time they reach us, in the order given (their ids ascend with it),
so the ledger and the current-state table agree (``selectors.fold_ledger``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents.models import (
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    Purpose,
    Source,
    Wording,
)
from apps.consents.selectors import policy_current
from apps.consents.services.ledger import NO_EVIDENCE, Evidence
from apps.customers.models import Customer, User

logger = logging.getLogger(__name__)

Action = ConsentEvent.Action
Status = ConsentState.Status
_STATUS_OF = {
    Action.GRANT: Status.GRANTED,
    Action.WITHDRAW: Status.WITHDRAWN,
    Action.PENDING: Status.PENDING,
}


@dataclass(frozen=True)
class LedgerEntry:
    """One grant or withdrawal of a customer, with its evidence (as ``consent_grant`` takes
    it)."""

    customer: Customer
    purpose: Purpose
    granted: bool
    source: str
    evidence: Evidence = NO_EVIDENCE


def consent_events_record(
    *, entries: Sequence[LedgerEntry], locked: bool = False
) -> list[ConsentEvent]:
    """Append one event per entry, in order, and leave each (customer, purpose) in the state its
    last entry gives. Returns the events, in the order of ``entries``. Raises ValidationError
    (and writes nothing) for an unknown source or a grant for an erased person.

    ``locked``: the caller already holds every person's row lock, in its transaction, and read
    the customers under it; the batch then joins that transaction without a savepoint of its own
    (two statements fewer for a single event), its refusals coming before it starts."""
    if not entries:
        return []
    if any(entry.source not in Source.values for entry in entries):
        raise ValidationError(_("Unknown consent source."))
    if locked:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("locked=True outside a transaction: no lock is held")
        people = {entry.customer.pk: entry.customer for entry in entries}
        _refuse_erased(entries, people)
        with transaction.atomic(savepoint=False):
            return _record_all(entries, people)
    with transaction.atomic():
        # Every person of the batch locked at once, in primary-key order (apps/core/locks.py's
        # order for customers), so concurrent batches cannot deadlock; status read under it.
        people = {
            person.pk: person
            for person in Customer.objects.select_for_update(of=("self",))
            .filter(pk__in={entry.customer.pk for entry in entries})
            .order_by("pk")
        }
        _refuse_erased(entries, people)
        return _record_all(entries, people)


def _refuse_erased(entries: Sequence[LedgerEntry], people: dict[int, Customer]) -> None:
    if any(
        entry.granted and people[entry.customer.pk].status == Customer.Status.ERASED
        for entry in entries
    ):
        raise ValidationError(_("This customer's data has been erased."))


def _record_all(entries: Sequence[LedgerEntry], people: dict[int, Customer]) -> list[ConsentEvent]:
    unconfirmed = _members_awaiting_confirmation(entries, people)
    current = policy_current() if any(e.evidence.policy_version is None for e in entries) else None
    wordings = _wordings({_words(entry) for entry in entries})
    now = timezone.now()
    events = ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                customer_id=entry.customer.pk,
                purpose=entry.purpose,
                action=_action(entry, unconfirmed),
                policy_version=entry.evidence.policy_version or current,
                source=entry.source,
                occurred_at=now,
                actor=entry.evidence.actor,
                wording=wordings[_words(entry)],
            )
            for entry in entries
        ]
    )
    ConsentEventContext.objects.bulk_create(
        [
            ConsentEventContext(
                event=event,
                ip_address=entry.evidence.ip_address or None,
                user_agent=(entry.evidence.user_agent or "")[:500],
            )
            for entry, event in zip(entries, events, strict=True)
            if entry.evidence.ip_address or entry.evidence.user_agent
        ]
    )
    _states_follow(events, now)
    logger.info("consent events recorded count=%s customers=%s", len(events), len(people))
    return events


def _words(entry: LedgerEntry) -> str:
    wording = entry.evidence.wording
    return wording if wording is not None else entry.purpose.description


def _action(entry: LedgerEntry, unconfirmed: set[int]) -> str:
    if not entry.granted:
        return Action.WITHDRAW
    return (
        Action.PENDING
        if entry.customer.pk in unconfirmed and _needs_address(entry)
        else Action.GRANT
    )


def _needs_address(entry: LedgerEntry) -> bool:
    """As ``ledger._awaits_email_confirmation``: an opt-in that is not a cookie choice, from
    anywhere but the confirmation itself, waits for a member's confirmed address."""
    purpose = entry.purpose
    return (
        entry.source != Source.EMAIL_CONFIRMATION
        and purpose.requires_opt_in
        and not purpose.cookie_category
    )


def _members_awaiting_confirmation(entries, people) -> set[int]:
    user_ids = {
        people[entry.customer.pk].user_id: entry.customer.pk
        for entry in entries
        if entry.granted and _needs_address(entry) and people[entry.customer.pk].user_id
    }
    if not user_ids:
        return set()
    waiting = User.objects.filter(pk__in=user_ids, email_confirmed_at__isnull=True).values_list(
        "pk", flat=True
    )
    return {user_ids[pk] for pk in waiting}


def _wordings(texts: set[str]) -> dict[str, Wording]:
    """Each text's Wording row, created where missing (stored once, found by its hash)."""
    by_hash = {Wording.hash_of(text): text for text in texts}
    found = {w.sha256: w for w in Wording.objects.filter(sha256__in=by_hash)}
    missing = [Wording(sha256=h, text=t) for h, t in by_hash.items() if h not in found]
    if missing:
        Wording.objects.bulk_create(missing, ignore_conflicts=True)
        found.update(
            (w.sha256, w) for w in Wording.objects.filter(sha256__in=[w.sha256 for w in missing])
        )
    return {text: found[digest] for digest, text in by_hash.items()}


def _update_states(states: list[ConsentState], now) -> None:
    """One UPDATE … FROM (VALUES …) on PostgreSQL: Django's bulk_update writes a CASE per field
    with a branch per row, which PostgreSQL plans slowly for a thousand rows."""
    if not states:
        return
    if connection.vendor != "postgresql":
        ConsentState.objects.bulk_update(states, ["status", "last_event", "updated_at"])
        return
    table = ConsentState._meta.db_table
    rows = ", ".join(["(%s::bigint, %s::varchar, %s::bigint)"] * len(states))
    params = [value for s in states for value in (s.pk, s.status, s.last_event_id)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET status = v.status, last_event_id = v.event, "  # noqa: S608
            f"updated_at = %s FROM (VALUES {rows}) AS v(id, status, event) WHERE s.id = v.id",
            [now, *params],
        )


def _states_follow(events: list[ConsentEvent], now) -> None:
    """The last event per (customer, purpose) decides its state: existing rows updated in one
    statement, new ones inserted in another."""
    last = {(event.customer_id, event.purpose_id): event for event in events}
    existing = list(
        ConsentState.objects.filter(
            customer_id__in={customer for customer, _purpose in last},
            purpose_id__in={purpose for _customer, purpose in last},
        )
    )
    changed = []
    for state in existing:
        event = last.pop((state.customer_id, state.purpose_id), None)
        if event is not None:
            state.status, state.last_event, state.updated_at = _STATUS_OF[event.action], event, now
            changed.append(state)
    _update_states(changed, now)
    new = [
        ConsentState(
            customer_id=customer,
            purpose_id=purpose,
            status=_STATUS_OF[event.action],
            last_event=event,
        )
        for (customer, purpose), event in last.items()
    ]
    # Every writer of a customer's state holds the person's lock, as this batch does: no row
    # found missing above can have appeared since.
    ConsentState.objects.bulk_create(new)
