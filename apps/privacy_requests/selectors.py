"""Reads on privacy requests."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.privacy import ErasureReport, personal_data_erase, personal_data_export
from apps.privacy_requests.models import (
    DUE_SOON_DAYS,
    ERASURE_KINDS,
    OPEN_STATUSES,
    Kind,
    Notice,
    PrivacyRequest,
    RequestEvent,
)

if TYPE_CHECKING:
    from apps.customers.models import Customer


def privacy_request_list_for(*, customer: Customer) -> QuerySet[PrivacyRequest]:
    return PrivacyRequest.objects.filter(customer=customer).order_by("-received_at", "-pk")


def privacy_request_get_for(*, customer: Customer, reference: str) -> PrivacyRequest | None:
    """A member's own request, or None (another member's request is simply not found)."""
    return PrivacyRequest.objects.filter(customer=customer, reference=reference).first()


def timeline(*, privacy_request: PrivacyRequest) -> QuerySet[RequestEvent]:
    return privacy_request.events.order_by("at", "pk")


def privacy_requests_overdue(*, today: datetime.date | None = None) -> QuerySet[PrivacyRequest]:
    today = today or timezone.localdate()
    return PrivacyRequest.objects.filter(status__in=OPEN_STATUSES, due_on__lt=today)


def privacy_requests_due_soon(*, today: datetime.date | None = None) -> QuerySet[PrivacyRequest]:
    today = today or timezone.localdate()
    return PrivacyRequest.objects.filter(
        Q(status__in=OPEN_STATUSES),
        due_on__gte=today,
        due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS),
    )


def letters_to_post(*, privacy_request: PrivacyRequest) -> QuerySet[Notice]:
    """The notices of a requester without an e-mail address still to be posted by staff."""
    if privacy_request.requester_email:
        return Notice.objects.none()
    return privacy_request.notices.filter(sent_at=None).order_by("created_at", "pk")


def erasure_blocked_by(*, privacy_request: PrivacyRequest) -> list[str]:
    """The references of the same person's other open requests when `privacy_request` is an
    erasure: it would empty them, so they are answered (or closed) first. Empty when nothing
    blocks it. The one place of this rule: the carry-out service refuses by it, the admin
    warns and withholds its confirmation button by it."""
    if privacy_request.kind not in ERASURE_KINDS or privacy_request.customer_id is None:
        return []
    return list(
        PrivacyRequest.objects.filter(
            customer_id=privacy_request.customer_id, status__in=OPEN_STATUSES
        )
        .exclude(pk=privacy_request.pk)
        .order_by("received_at", "pk")
        .values_list("reference", flat=True)
    )


def erasure_preview(*, privacy_request: PrivacyRequest) -> ErasureReport | None:
    """What an erasure would delete, anonymise and keep: a dry run that changes nothing."""
    if privacy_request.customer_id is None:
        return None
    return personal_data_erase(customer_id=privacy_request.customer_id, dry_run=True)


# APPI Art. 33(5): a request for the third-party provision records is answered with those
# records (the provision records of Art. 29 and the receipt records of Art. 30, as the consents
# app declares them: handler name, section key), not with everything held about the person.
PROVISION_RECORD_SECTIONS = frozenset(
    {("consents", "third_party_provision"), ("consents", "received_from_third_parties")}
)


def disclosure_scope(*, kind: str):
    """Which (handler, section) pairs a disclosure of ``kind`` answers with; None: all."""
    return PROVISION_RECORD_SECTIONS if kind == Kind.PROVISION_RECORDS else None


def disclosure_data(*, privacy_request: PrivacyRequest) -> dict | None:
    if privacy_request.customer_id is None:
        return None
    data = personal_data_export(customer_id=privacy_request.customer_id)
    scope = disclosure_scope(kind=privacy_request.kind)
    if scope is None:
        return data
    return {
        handler: {key: rows for key, rows in sections.items() if (handler, key) in scope}
        for handler, sections in data.items()
        if any((handler, key) in scope for key in sections)
    }
