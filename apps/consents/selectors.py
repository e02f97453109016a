"""Reads on consents. `customers_who_may` is the one question marketing and provision ask."""

from __future__ import annotations

import datetime

from django.db.models import Exists, Min, OuterRef, QuerySet

from apps.consents import transfers
from apps.consents.cookies import CATEGORIES
from apps.consents.models import (
    ConsentEvent,
    ConsentState,
    Contractor,
    PersonRestriction,
    PolicyVersion,
    ProvisionRecord,
    Purpose,
)
from apps.core.compiled import CompiledQuery
from apps.customers.models import Customer


def policy_current() -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(published_at__isnull=False).order_by("-published_at").first()
    )


def policy_published() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(published_at__isnull=False).order_by("-published_at")


def purposes_active() -> QuerySet[Purpose]:
    return Purpose.objects.filter(is_active=True).order_by("sort_order", "pk")


# /mypage/privacy/ reads these on every visit: compiled once (apps/core/compiled.py).
HISTORY_SHOWN = 100
_PURPOSES_ACTIVE = CompiledQuery(purposes_active)
_STATES = CompiledQuery(
    lambda customer_id: ConsentState.objects.filter(customer_id=customer_id).select_related(
        "last_event"
    ),
    customer_id=int,
)
_HISTORY = CompiledQuery(
    lambda customer_id: (
        ConsentEvent.objects.filter(customer_id=customer_id)
        .select_related("purpose", "policy_version")
        .order_by("-occurred_at", "-pk")[:HISTORY_SHOWN]
    ),
    customer_id=int,
)
_FIRST_GRANTS = CompiledQuery(
    lambda customer_id: (
        ConsentEvent.objects.filter(customer_id=customer_id, action=ConsentEvent.Action.GRANT)
        .values("purpose_id")
        .annotate(first=Min("occurred_at"))
        .values_list("purpose_id", "first")
    ),
    customer_id=int,
)
_RESTRICTION = CompiledQuery(
    lambda customer_id: PersonRestriction.objects.filter(customer_id=customer_id),
    customer_id=int,
)


def purposes_active_list() -> list[Purpose]:
    """`purposes_active()` as a list, for the pages that show them all."""
    return _PURPOSES_ACTIVE()


def restriction_for(*, customer: Customer) -> PersonRestriction | None:
    return _RESTRICTION.first(customer_id=customer.pk)


def customers_who_may(*, purpose: Purpose) -> QuerySet[Customer]:
    """Everyone we may use for `purpose` right now, as one SQL query.

    Active (not restricted for terms violations, not erased), no stop-of-use restriction, and,
    where the purpose needs opt-in, a current grant (the partial index on granted states).
    """
    stopped = PersonRestriction.objects.filter(customer=OuterRef("pk"), stop_use=True)
    people = Customer.objects.filter(status=Customer.Status.ACTIVE).exclude(Exists(stopped))
    if purpose.requires_opt_in:
        granted = ConsentState.objects.filter(
            purpose=purpose, status=ConsentState.Status.GRANTED, customer_id__isnull=False
        ).values("customer_id")
        people = people.filter(pk__in=granted)
    return people


# Every page with the banner or tags asks it for a signed-in member: compiled once.
_COOKIE_STATES = CompiledQuery(
    lambda user_id: Customer.objects.filter(user_id=user_id).values_list(
        "consent_states__purpose__cookie_category", "consent_states__status"
    ),
    user_id=int,
)


def cookie_choices_for_user(*, user_id: int) -> dict | None:
    """The cookie categories a member's ledger allows, for tags and the banner: None when the
    login has no member profile (staff), else {"choices": None} when the member never answered
    (the banner asks), or {"choices": {category: granted}}. A category whose purposes are not
    all granted (withdrawn, or pending after a widening policy change) is off.

    One query on the unique user id and the (customer, purpose) index: the member's profile
    left-joined to their states of cookie purposes."""
    rows = _COOKIE_STATES(user_id=user_id)
    if not rows:
        return None
    granted: dict[str, bool] = {}
    for category, status in rows:
        if category:  # empty: a purpose that is not about cookies, or no state at all
            ok = status == ConsentState.Status.GRANTED
            granted[category] = granted.get(category, True) and ok
    if not granted:
        return {"choices": None}
    return {"choices": {c: granted.get(c, False) for c in CATEGORIES}}


def consent_states_for(*, customer: Customer) -> dict[int, ConsentState]:
    return {s.purpose_id: s for s in _STATES(customer_id=customer.pk)}


def consent_history_recent_for(*, customer: Customer) -> list[ConsentEvent]:
    """The member's latest HISTORY_SHOWN events, newest first, for /mypage/privacy/."""
    return _HISTORY(customer_id=customer.pk)


def consent_history_for(*, customer: Customer) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(customer=customer)
        .select_related("purpose", "policy_version")
        .order_by("-occurred_at", "-pk")
    )


def consent_first_grants_for(*, customer: Customer) -> dict[int, datetime.datetime]:
    """When the member first agreed to each purpose. A withdrawal before that (or with no
    agreement at all, such as "necessary only" in the cookie banner) is a refusal, and the
    member's page words it so."""
    return dict(_FIRST_GRANTS(customer_id=customer.pk))


def pending_confirmations_for(*, customer: Customer) -> QuerySet[ConsentState]:
    """Consents the member must answer again (after a widening policy change). Those given
    while their address is unconfirmed wait for the address, not for an answer."""
    return (
        ConsentState.objects.filter(customer=customer, status=ConsentState.Status.PENDING)
        .exclude(last_event__action=ConsentEvent.Action.PENDING)
        .select_related("purpose")
    )


def contractors_abroad() -> QuerySet[Contractor]:
    """Active contractors handling data outside Japan, for /privacy/ (APPI Art. 28, GDPR Art.
    13(1)(f)): what they do, where, under which system and safeguards."""
    return Contractor.objects.filter(is_active=True).exclude(country=transfers.HOME_COUNTRY)


def provision_countries_abroad(*, today: datetime.date) -> list[tuple[str, str]]:
    """The foreign countries (with their protection system) of the provision records still
    kept: the recipients' names stay off the public page."""
    return list(
        ProvisionRecord.objects.filter(retain_until__gte=today)
        .exclude(recipient_country=transfers.HOME_COUNTRY)
        .order_by("recipient_country", "country_system")
        .values_list("recipient_country", "country_system")
        .distinct()
    )


def provision_records_for(*, customer: Customer) -> QuerySet[ProvisionRecord]:
    return ProvisionRecord.objects.filter(customers=customer).order_by("-provided_on", "-pk")


def fold_ledger(events) -> dict[tuple, str]:
    """The state the ledger implies: the last event per (subject, purpose) decides, and a grant
    under a version older than the purpose's current scope is only pending confirmation. Used
    by tests and audits to check the current-state table against the ledger."""
    state: dict[tuple, str] = {}
    scope = {p.pk: p.scope_version for p in Purpose.objects.select_related("scope_version")}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.pk)):
        key = (
            event.customer_id,
            event.visitor_id if event.customer_id is None else None,
            event.purpose_id,
        )
        if event.action == ConsentEvent.Action.WITHDRAW:
            state[key] = ConsentState.Status.WITHDRAWN
            continue
        if event.action == ConsentEvent.Action.PENDING:
            state[key] = ConsentState.Status.PENDING
            continue
        required = scope.get(event.purpose_id)
        covered = required is None or (
            event.policy_version is not None
            and event.policy_version.published_at is not None
            and event.policy_version.published_at >= required.published_at
        )
        state[key] = ConsentState.Status.GRANTED if covered else ConsentState.Status.PENDING
    return state
