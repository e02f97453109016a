"""Reads for mail magazines: who is eligible now, as SQL, and campaign progress."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.consents.models import ConsentState, PersonRestriction
from apps.core.compiled import CompiledQuery
from apps.customers.models import Customer
from apps.marketing.models import Campaign, Delivery, MailMagazine, Subscription, SuppressedAddress


def address_hash(address: str) -> str:
    """Keyed hash of a normalised address: the suppression list never holds the address."""
    normalised = (address or "").strip().lower()
    key = settings.SUPPRESSION_HMAC_KEY.encode("utf-8")
    # hmac.digest: OpenSSL's one-shot HMAC (the pipeline hashes every recipient's address).
    return hmac.digest(key, normalised.encode("utf-8"), "sha256").hex()


def eligible_subscriptions(*, magazine: MailMagazine) -> QuerySet[Subscription]:
    """Everyone who may receive this magazine now, as one SQL query: an active subscription,
    a current consent for the magazine's purpose, an active customer (not restricted, not
    erased), a member's login address confirmed (guests subscribe by double opt-in), no stop
    of use, and an address not on the suppression list."""
    granted = ConsentState.objects.filter(
        customer=OuterRef("customer_id"),
        purpose_id=magazine.purpose_id,
        status=ConsentState.Status.GRANTED,
    )
    stopped = PersonRestriction.objects.filter(customer=OuterRef("customer_id"), stop_use=True)
    suppressed = SuppressedAddress.objects.filter(
        Q(magazine__isnull=True) | Q(magazine=magazine), address_hash=OuterRef("email_hash")
    )
    return (
        Subscription.objects.filter(
            magazine=magazine,
            status=Subscription.Status.ACTIVE,
            customer__status=Customer.Status.ACTIVE,
        )
        .filter(
            Q(customer__user__isnull=True) | Q(customer__user__email_confirmed_at__isnull=False)
        )
        .filter(Exists(granted))
        .exclude(Exists(stopped))
        .exclude(Exists(suppressed))
    )


def eligible_with_consent_event(*, magazine: MailMagazine) -> QuerySet[Subscription]:
    last_grant = ConsentState.objects.filter(
        customer=OuterRef("customer_id"), purpose_id=magazine.purpose_id
    ).values("last_event_id")[:1]
    return eligible_subscriptions(magazine=magazine).annotate(consent_event_id=Subquery(last_grant))


def eligible_count(*, magazine: MailMagazine) -> int:
    return eligible_subscriptions(magazine=magazine).count()


def campaign_progress(*, campaign: Campaign) -> dict:
    """Counts per status, plus `waiting`: the pending rows the mail server deferred (refused,
    timed out, 4xx) whose retry time has not come, and `next_attempt_at`, the earliest one."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    for row in Delivery.objects.filter(campaign=campaign).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts[s] for s in Delivery.Status.values)
    # What the mail provider reported afterwards (sent rows stay counted as sent).
    reported = Delivery.objects.filter(campaign=campaign).exclude(feedback="")
    for feedback in Delivery.Feedback.values[1:]:
        counts[feedback] = 0
    for row in reported.values("feedback").annotate(n=Count("id")):
        counts[row["feedback"]] = row["n"]
    waiting = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.PENDING, next_attempt_at__gt=timezone.now()
    ).aggregate(n=Count("id"), next_attempt_at=Min("next_attempt_at"))
    counts["waiting"] = waiting["n"]
    counts["next_attempt_at"] = waiting["next_attempt_at"]
    return counts


# /mypage/privacy/'s magazine section reads these on every visit: compiled once.
_SUBSCRIPTIONS = CompiledQuery(
    lambda customer_id: Subscription.objects.filter(customer_id=customer_id),
    customer_id=int,
)
_MAGAZINES_LISTED = CompiledQuery(
    lambda: MailMagazine.objects.filter(is_active=True).order_by("name")
)


def subscriptions_for(*, customer: Customer) -> dict[int, Subscription]:
    return {s.magazine_id: s for s in _SUBSCRIPTIONS(customer_id=customer.pk)}


def magazines_listed() -> list[MailMagazine]:
    """The active magazines by name, as My Page lists them."""
    return _MAGAZINES_LISTED()


def magazines_active() -> QuerySet[MailMagazine]:
    return MailMagazine.objects.filter(is_active=True).select_related("purpose")


def suppression_reasons(*, address: str) -> set[str]:
    """Why an address is suppressed for every magazine (empty: it is not)."""
    return set(
        SuppressedAddress.objects.filter(
            magazine__isnull=True, address_hash=address_hash(address)
        ).values_list("reason", flat=True)
    )


def is_suppressed(*, address: str, magazine: MailMagazine | None = None) -> bool:
    query = Q(magazine__isnull=True)
    if magazine is not None:
        query |= Q(magazine=magazine)
    return SuppressedAddress.objects.filter(query, address_hash=address_hash(address)).exists()
