"""Writes on consents: every grant and withdrawal appends to the ledger and updates the
current-state table in one transaction; policy publication; restrictions; provision records."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents.models import (
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    Contractor,
    PersonRestriction,
    PolicyVersion,
    ProvisionRecord,
    Purpose,
    ReceiptRecord,
    Source,
    VisitorLink,
    Wording,
)
from apps.consents.selectors import policy_current
from apps.core.locks import person_lock
from apps.customers.models import Customer, User

logger = logging.getLogger(__name__)

Action = ConsentEvent.Action
Status = ConsentState.Status


def wording_for(text: str) -> Wording:
    wording, _ = Wording.objects.get_or_create(
        sha256=Wording.hash_of(text), defaults={"text": text}
    )
    return wording


def _record(
    *,
    action: str,
    purpose: Purpose,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    wording: str | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    actor: User | None = None,
    policy_version: PolicyVersion | None = None,
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
        policy_version=policy_version or policy_current(),
        source=source,
        occurred_at=timezone.now(),
        actor=actor,
        wording=wording_for(wording if wording is not None else purpose.description),
    )
    if ip_address or user_agent:
        ConsentEventContext.objects.create(
            event=event, ip_address=ip_address or None, user_agent=(user_agent or "")[:500]
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
            wording=state.last_event.wording.text,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    return [state.purpose for state in states]


@transaction.atomic
def consent_grant(
    *,
    purpose: Purpose,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    wording: str | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    actor: User | None = None,
    policy_version: PolicyVersion | None = None,
) -> ConsentEvent:
    return _record(
        action=Action.GRANT,
        purpose=purpose,
        source=source,
        customer=customer,
        visitor_id=visitor_id,
        wording=wording,
        ip_address=ip_address,
        user_agent=user_agent,
        actor=actor,
        policy_version=policy_version,
    )


@transaction.atomic
def consent_withdraw(
    *,
    purpose: Purpose,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    wording: str | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    actor: User | None = None,
    policy_version: PolicyVersion | None = None,
) -> ConsentEvent:
    return _record(
        action=Action.WITHDRAW,
        purpose=purpose,
        source=source,
        customer=customer,
        visitor_id=visitor_id,
        wording=wording,
        ip_address=ip_address,
        user_agent=user_agent,
        actor=actor,
        policy_version=policy_version,
    )


@transaction.atomic
def consent_set(
    *,
    purpose: Purpose,
    granted: bool,
    source: str,
    customer: Customer | None = None,
    visitor_id: uuid.UUID | None = None,
    wording: str | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    actor: User | None = None,
    policy_version: PolicyVersion | None = None,
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
        wording=wording,
        ip_address=ip_address,
        user_agent=user_agent,
        actor=actor,
        policy_version=policy_version,
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
    now = timezone.now()
    policy = policy_current()
    shared = wording_for(wording)
    events = ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                customer=customer,
                purpose=state.purpose,
                action=Action.WITHDRAW,
                policy_version=policy,
                source=source,
                occurred_at=now,
                actor=actor,
                wording=shared,
            )
            for state in states
        ]
    )
    for state, event in zip(states, events, strict=True):
        state.status, state.last_event, state.updated_at = Status.WITHDRAWN, event, now
    ConsentState.objects.bulk_update(states, ["status", "last_event", "updated_at"])
    logger.info(
        "consents withdrawn customer_id=%s count=%s source=%s", customer.pk, len(states), source
    )
    return len(states)


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


# ------------------------------------------------------------------ the policy


@transaction.atomic
def policy_version_publish(*, version: PolicyVersion, by: User | None = None) -> PolicyVersion:
    """Publish a version. If it widens purposes, grants under older versions stop covering them:
    those states become "pending confirmation" until the member answers again."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise ValidationError(_("This version is already published and can no longer change."))
    widened = list(version.widened_purposes.all())
    if version.widens_purposes and not widened:
        raise ValidationError(_("Choose the purposes this version widens."))
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    pending = 0
    if version.widens_purposes:
        Purpose.objects.filter(pk__in=[p.pk for p in widened]).update(scope_version=version)
        pending = ConsentState.objects.filter(
            purpose__in=widened, status=Status.GRANTED, customer__isnull=False
        ).update(status=Status.PENDING, updated_at=timezone.now())
    logger.info(
        "policy version published version_id=%s widening=%s pending=%s",
        version.pk,
        version.widens_purposes,
        pending,
    )
    return version


# ------------------------------------------------------------------ cookies


@transaction.atomic
def cookie_choice_record(
    *,
    choices: dict[str, bool],
    visitor_id: uuid.UUID,
    customer: Customer | None = None,
    wording: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> list[ConsentEvent]:
    """Record a cookie-banner choice per category, for the member when logged in, otherwise for
    the anonymous visitor id."""
    events = []
    purposes = Purpose.objects.filter(cookie_category__in=list(choices), is_active=True)
    for purpose in purposes.order_by("pk"):
        subject = {"customer": customer} if customer else {"visitor_id": visitor_id}
        event = consent_set(
            purpose=purpose,
            granted=bool(choices[purpose.cookie_category]),
            source=Source.COOKIE_BANNER,
            wording=wording,
            ip_address=ip_address,
            user_agent=user_agent,
            **subject,
        )
        if event is not None:
            events.append(event)
    return events


@transaction.atomic
def visitor_link(*, visitor_id: uuid.UUID, customer: Customer) -> int:
    """At login: carry the visitor's cookie choices over to the member (as new ledger events)."""
    _link, created = VisitorLink.objects.get_or_create(
        visitor_id=visitor_id, defaults={"customer": customer}
    )
    if not created:
        return 0
    copied = 0
    states = ConsentState.objects.filter(visitor_id=visitor_id, customer__isnull=True)
    for state in states.select_related("purpose", "last_event__wording").order_by("purpose_id"):
        if consent_set(
            purpose=state.purpose,
            granted=state.status == Status.GRANTED,
            source=Source.COOKIE_BANNER,
            customer=customer,
            wording=state.last_event.wording.text,
        ):
            copied += 1
    return copied


# ------------------------------------------------------------------ restrictions


@transaction.atomic
def restriction_set(
    *, customer: Customer, stop_use: bool | None = None, stop_provision: bool | None = None
) -> PersonRestriction:
    restriction, _ = PersonRestriction.objects.select_for_update().get_or_create(customer=customer)
    if stop_use is not None:
        restriction.stop_use = stop_use
    if stop_provision is not None:
        restriction.stop_provision = stop_provision
    restriction.save()
    return restriction


# ------------------------------------------------------------------ provision and receipt


def _provision_refusals(customers: Iterable[Customer], basis: str) -> list[int]:
    ids = [c.pk for c in customers]
    if basis in ProvisionRecord.LEGAL_BASES:
        # Provision the law requires (APPI Art. 27(1)(i)) is not stopped by a stop request,
        # but is still recorded. Erased people have nothing left to provide.
        return list(
            Customer.objects.filter(pk__in=ids, status=Customer.Status.ERASED).values_list(
                "pk", flat=True
            )
        )
    refused = set(
        Customer.objects.filter(pk__in=ids)
        .filter(
            Q(status__in=[Customer.Status.ERASED])
            | Q(restriction__stop_provision=True)
            | Q(restriction__stop_use=True)
        )
        .values_list("pk", flat=True)
    )
    if basis == ProvisionRecord.Basis.CONSENT:
        third_party = Purpose.objects.filter(code="third_party_provision").first()
        consented = set(
            ConsentState.objects.filter(
                customer_id__in=ids, purpose=third_party, status=Status.GRANTED
            ).values_list("customer_id", flat=True)
        )
        refused |= set(ids) - consented
    return sorted(refused)


def provision_record_check(
    *,
    customers: list[Customer],
    basis: str,
    legal_reference: str = "",
    contractor: Contractor | None = None,
) -> None:
    """Raise ValidationError when this provision may not happen (forms call it to show why)."""
    if not customers:
        raise ValidationError({"customers": _("Choose the people whose data is provided.")})
    if basis in ProvisionRecord.LEGAL_BASES and not legal_reference.strip():
        raise ValidationError({"legal_reference": _("Give the reference of the inquiry or order.")})
    if basis == ProvisionRecord.Basis.CONSIGNMENT and contractor is None:
        raise ValidationError({"contractor": _("Choose the contractor from the register.")})
    refused = _provision_refusals(customers, basis)
    if refused:
        raise ValidationError(
            {
                "customers": _(
                    "Provision refused for customer(s) %(ids)s: they stopped third-party "
                    "provision, did not consent, or were erased."
                )
                % {"ids": ", ".join(f"#{pk}" for pk in refused)}
            }
        )


@transaction.atomic
def provision_record_create(
    *,
    customers: list[Customer],
    recipient_name: str,
    recipient_address: str,
    data_items: str,
    basis: str,
    recipient_representative: str = "",
    legal_reference: str = "",
    contractor: Contractor | None = None,
    provided_on: datetime.date | None = None,
    retain_until: datetime.date | None = None,
    by: User | None = None,
) -> ProvisionRecord:
    """Record a provision to a third party, refusing anyone who stopped provision (or did not
    consent where the basis is consent)."""
    provision_record_check(
        customers=customers, basis=basis, legal_reference=legal_reference, contractor=contractor
    )
    record = ProvisionRecord(
        recipient_name=recipient_name,
        recipient_address=recipient_address,
        recipient_representative=recipient_representative,
        contractor=contractor,
        data_items=data_items,
        basis=basis,
        legal_reference=legal_reference,
        recorded_by=by,
    )
    if provided_on:
        record.provided_on = provided_on
    if retain_until:
        record.retain_until = retain_until
    record.full_clean()
    record.save()
    record.customers.set(customers)
    logger.info("provision recorded provision_id=%s people=%s", record.pk, len(customers))
    return record


@transaction.atomic
def receipt_record_create(
    *,
    provider_name: str,
    provider_address: str,
    how_acquired: str,
    data_items: str,
    customers: list[Customer] | None = None,
    provider_representative: str = "",
    received_on: datetime.date | None = None,
    by: User | None = None,
) -> ReceiptRecord:
    record = ReceiptRecord(
        provider_name=provider_name,
        provider_address=provider_address,
        provider_representative=provider_representative,
        how_acquired=how_acquired,
        data_items=data_items,
        recorded_by=by,
    )
    if received_on:
        record.received_on = received_on
    record.full_clean()
    record.save()
    if customers:
        record.customers.set(customers)
    return record
