"""The consent ledger: every grant and withdrawal appends an event and updates the
current-state table in one transaction; pending consents confirmed; old events purged."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents.models import (
    OFFLINE_CHANNELS,
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    PolicyVersion,
    Purpose,
    Source,
    Wording,
)
from apps.consents.selectors import policy_current, policy_published
from apps.core.db import update_each
from apps.core.events import CONSENT_CHANGED, event_publish, event_publish_many
from apps.core.locks import person_lock
from apps.customers.models import Customer, User

logger = logging.getLogger(__name__)

Action = ConsentEvent.Action
Status = ConsentState.Status


@dataclass(frozen=True)
class Evidence:
    """What a consent event proves beside whose consent it is, to what and through which
    `source`: the words the person was shown (the purpose's description when None), where the
    answer came from (IP and user agent: personal data, kept beside the immutable ledger row
    and erased with the person), the staff user who recorded it, and the policy it was given
    under (the current one when None)."""

    wording: str | None = None
    ip_address: str | None = None
    user_agent: str = ""
    actor: User | None = None
    policy_version: PolicyVersion | None = None


NO_EVIDENCE = Evidence()


def wording_for(text: str) -> Wording:
    wording, _ = Wording.objects.get_or_create(
        sha256=Wording.hash_of(text), defaults={"text": text}
    )
    return wording


def _policy_and_wording_ids(text: str) -> tuple[int | None, int]:
    """The current policy's id (None before one is published) and the id of `text`'s wording
    row, stored if new: what a batch of withdrawal events refers to. On PostgreSQL one
    statement, whether or not the wording was stored before (``INSERT … ON CONFLICT DO
    NOTHING`` takes no lock on an existing row); elsewhere `policy_current` and `wording_for`."""
    if connection.vendor != "postgresql":
        policy = policy_current()
        return (policy.pk if policy else None), wording_for(text).pk
    sha256 = Wording.hash_of(text)
    policy_sql, policy_params = policy_published().values("pk")[:1].query.sql_with_params()
    table = connection.ops.quote_name(Wording._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Table and column names from the models; every value a parameter.
            f"WITH ins AS (INSERT INTO {table} (sha256, text) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (sha256) DO NOTHING RETURNING id) "
            f"SELECT ({policy_sql}), COALESCE((SELECT id FROM ins), "
            f"(SELECT id FROM {table} WHERE sha256 = %s))",
            [sha256, text, *policy_params, sha256],
        )
        policy_id, wording_id = cursor.fetchone()
    if wording_id is None:
        # Stored by a transaction that committed while this statement waited for it: its row
        # is visible to the next statement.
        wording_id = Wording.objects.values_list("pk", flat=True).get(sha256=sha256)
    return policy_id, wording_id


def _record(
    *,
    action: str,
    purpose: Purpose,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    evidence: Evidence = NO_EVIDENCE,
) -> ConsentEvent:
    if (customer is None) == (visitor_id is None):
        raise ValueError("a consent event is about exactly one customer or one visitor")
    if source not in Source.values:
        raise ValidationError(_("Unknown consent source."))
    if customer is not None:
        # Lock the person first so two concurrent changes for them serialise.
        customer = person_lock(customer_id=customer.pk).customer
        if customer.status == Customer.Status.ERASED and action == Action.GRANT:
            raise ValidationError(_("This customer's data has been erased."))
        if action == Action.GRANT and _awaits_email_confirmation(customer, purpose, source):
            action = Action.PENDING
    event = ConsentEvent.objects.create(
        customer=customer,
        visitor_id=visitor_id if customer is None else None,
        purpose=purpose,
        action=action,
        policy_version=evidence.policy_version or policy_current(),
        source=source,
        occurred_at=timezone.now(),
        actor=evidence.actor,
        wording=wording_for(
            evidence.wording if evidence.wording is not None else purpose.description
        ),
    )
    if evidence.ip_address or evidence.user_agent:
        ConsentEventContext.objects.create(
            event=event,
            ip_address=evidence.ip_address or None,
            user_agent=(evidence.user_agent or "")[:500],
        )
    subject = {"customer": customer} if customer is not None else {"visitor_id": visitor_id}
    status = {
        Action.GRANT: Status.GRANTED,
        Action.WITHDRAW: Status.WITHDRAWN,
        Action.PENDING: Status.PENDING,
    }[action]
    updated = ConsentState.objects.filter(**subject, purpose=purpose).update(
        status=status, last_event=event, updated_at=timezone.now()
    )
    if not updated:
        try:
            with transaction.atomic():
                ConsentState.objects.create(
                    **subject, purpose=purpose, status=status, last_event=event
                )
        except IntegrityError:  # created by a concurrent visitor request a moment ago
            ConsentState.objects.filter(**subject, purpose=purpose).update(
                status=status, last_event=event, updated_at=timezone.now()
            )
    if customer is not None:
        # Systems holding a copy (the storefront, the mail provider) hear of it: the integration
        # app writes their webhook deliveries in this transaction.
        event_publish(
            CONSENT_CHANGED,
            customer_id=customer.pk,
            data={
                "purpose": purpose.code,
                "status": status,
                "source": source,
                "consent_event_id": event.pk,
            },
        )
    logger.info(
        "consent %s purpose=%s customer_id=%s event_id=%s source=%s",
        action,
        purpose.code,
        customer.pk if customer else None,
        event.pk,
        source,
    )
    return event


def _awaits_email_confirmation(customer: Customer, purpose: Purpose, source: str) -> bool:
    """Anyone can sign up with someone else's address: until the member has clicked the link
    sent to it, an opt-in (mail magazines, provision, ads) is recorded but not in force.
    Cookie choices are about this browser, not the address, and stay in force."""
    if source == Source.EMAIL_CONFIRMATION or customer.user_id is None:
        return False
    if not purpose.requires_opt_in or purpose.cookie_category:
        return False
    return User.objects.filter(pk=customer.user_id, email_confirmed_at__isnull=True).exists()


@transaction.atomic
def consent_confirm_pending(
    *, customer: Customer, ip_address: str | None = None, user_agent: str = ""
) -> list[Purpose]:
    """The member confirmed their address: each consent they gave while it was unconfirmed
    comes into force, as a grant event (same wording, source "email_confirmation", the
    confirming click's IP and user agent) following the pending one. Returns the purposes."""
    customer = person_lock(customer_id=customer.pk).customer
    states = list(
        ConsentState.objects.filter(
            customer=customer, status=Status.PENDING, last_event__action=Action.PENDING
        )
        .select_related("purpose", "last_event__wording")
        .order_by("purpose_id")
    )
    for state in states:
        _record(
            action=Action.GRANT,
            purpose=state.purpose,
            source=Source.EMAIL_CONFIRMATION,
            customer=customer,
            evidence=Evidence(
                wording=state.last_event.wording.text,
                ip_address=ip_address,
                user_agent=user_agent,
            ),
        )
    return [state.purpose for state in states]


@transaction.atomic
def consent_grant(
    *,
    purpose: Purpose,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    evidence: Evidence = NO_EVIDENCE,
) -> ConsentEvent:
    return _record(
        action=Action.GRANT,
        purpose=purpose,
        source=source,
        customer=customer,
        visitor_id=visitor_id,
        evidence=evidence,
    )


@transaction.atomic
def consent_withdraw(
    *,
    purpose: Purpose,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    evidence: Evidence = NO_EVIDENCE,
) -> ConsentEvent:
    return _record(
        action=Action.WITHDRAW,
        purpose=purpose,
        source=source,
        customer=customer,
        visitor_id=visitor_id,
        evidence=evidence,
    )


@transaction.atomic
def consent_set(
    *,
    purpose: Purpose,
    granted: bool,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    evidence: Evidence = NO_EVIDENCE,
) -> ConsentEvent | None:
    """Grant or withdraw, writing an event only when the answer changes."""
    subject = (
        {"customer_id": customer.pk}
        if customer is not None
        else {"visitor_id": visitor_id, "customer__isnull": True}
    )
    current = (
        ConsentState.objects.filter(**subject, purpose=purpose).select_related("last_event").first()
    )
    if current is not None and current.status == (Status.GRANTED if granted else Status.WITHDRAWN):
        return None
    if (
        granted
        and current is not None
        and current.status == Status.PENDING
        and current.last_event.action == Action.PENDING
    ):
        return None  # already given, waiting for the address to be confirmed
    return _record(
        action=Action.GRANT if granted else Action.WITHDRAW,
        purpose=purpose,
        source=source,
        customer=customer,
        visitor_id=visitor_id,
        evidence=evidence,
    )


@transaction.atomic
def consent_record_offline(
    *,
    customer: Customer,
    purpose: Purpose,
    granted: bool,
    channel: str,
    wording: str,
    actor: User,
) -> ConsentEvent:
    """A consent given or withdrawn by phone, letter or at the shop counter, recorded by staff:
    the staff user is the event's actor, the channel its source, and the words read out or
    signed its wording. Always appends an event, even when the answer is unchanged: a renewed
    consent is evidence worth keeping."""
    if channel not in OFFLINE_CHANNELS:
        raise ValidationError({"channel": _("Choose phone, letter or shop counter.")})
    if not (wording or "").strip():
        raise ValidationError({"wording": _("Give the exact words read out or signed.")})
    return _record(
        action=Action.GRANT if granted else Action.WITHDRAW,
        purpose=purpose,
        source=channel,
        customer=customer,
        evidence=Evidence(wording=wording.strip(), actor=actor),
    )


@transaction.atomic
def consent_withdraw_all(
    *,
    customer: Customer,
    source: str,
    wording: str,
    actor: User | None = None,
    locked: bool = False,
) -> int:
    """Withdraw every consent the person has granted or left pending, in a fixed number of
    statements: one withdrawal event each (appended in bulk) and their states updated.
    `locked`: the caller already holds the person's row lock (an erasure). Returns how many."""
    if not locked:
        customer = person_lock(customer_id=customer.pk).customer
    states = list(
        ConsentState.objects.select_for_update()
        .filter(customer=customer, status__in=[Status.GRANTED, Status.PENDING])
        .select_related("purpose")
        .order_by("purpose_id")
    )
    if not states:
        return 0
    _withdraw(states, source=source, wording=wording, actor=actor)
    logger.info(
        "consents withdrawn customer_id=%s count=%s source=%s", customer.pk, len(states), source
    )
    return len(states)


@transaction.atomic
def consent_withdraw_all_many(*, customers: list[Customer], source: str, wording: str) -> int:
    """`consent_withdraw_all` for a batch of people whose rows the caller has locked (the
    retention job's erasure): the same withdrawal events, states and published changes, in a
    fixed number of statements whatever the number of people. Returns how many."""
    states = list(
        ConsentState.objects.select_for_update()
        .filter(customer__in=customers, status__in=[Status.GRANTED, Status.PENDING])
        .select_related("purpose")
        .order_by("customer_id", "purpose_id")
    )
    if not states:
        return 0
    _withdraw(states, source=source, wording=wording)
    logger.info(
        "consents withdrawn people=%s count=%s source=%s", len(customers), len(states), source
    )
    return len(states)


def _withdraw(
    states: list[ConsentState], *, source: str, wording: str, actor: User | None = None
) -> None:
    """The withdrawals of `states` (locked by the caller): one event each appended in bulk, the
    states updated in one statement, and every system holding a copy told of each, as for a
    single withdrawal (their webhook rows in one INSERT however many)."""
    now = timezone.now()
    policy_id, wording_id = _policy_and_wording_ids(wording)
    events = ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                customer_id=state.customer_id,
                purpose=state.purpose,
                action=Action.WITHDRAW,
                policy_version_id=policy_id,
                source=source,
                occurred_at=now,
                actor=actor,
                wording_id=wording_id,
            )
            for state in states
        ]
    )
    for state, event in zip(states, events, strict=True):
        state.status, state.last_event, state.updated_at = Status.WITHDRAWN, event, now
    update_each(states, "last_event", status=Status.WITHDRAWN, updated_at=now)
    event_publish_many(
        [
            (
                CONSENT_CHANGED,
                state.customer_id,
                {
                    "purpose": state.purpose.code,
                    "status": Status.WITHDRAWN,
                    "source": source,
                    "consent_event_id": event.pk,
                },
            )
            for state, event in zip(states, events, strict=True)
        ]
    )


def consent_events_purge(*, event_ids: list[int]) -> int:
    """Delete ledger events whose keeping period is over (the retention job only): the one
    path past the append-only rule. Events that still decide a current state are kept."""
    from django.db import connection

    if not event_ids:
        return 0
    deciding = set(
        ConsentState.objects.filter(last_event_id__in=event_ids).values_list(
            "last_event_id", flat=True
        )
    )
    ids = [pk for pk in event_ids if pk not in deciding]
    if not ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL consents.retention_purge = 'on'")
        ConsentEventContext.objects.filter(event_id__in=ids).delete()
        cursor.execute(
            f"DELETE FROM {ConsentEvent._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))})",  # noqa: S608
            ids,
        )
        deleted = cursor.rowcount
    logger.info("consent events purged count=%s", deleted)
    return deleted
