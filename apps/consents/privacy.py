"""Export, erasure and restriction of what the consents app holds about a person.

Erasure withdraws every open consent (new ledger events: the ledger itself is never rewritten
and holds ids only), deletes the IP addresses and user agents kept beside the ledger, and keeps
provision and receipt records for their statutory 3 years (APPI Art. 29/30)."""

from __future__ import annotations

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_noop

from apps.consents import services
from apps.consents.models import (
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    PersonRestriction,
    ProvisionRecord,
    ReceiptRecord,
    Source,
    VisitorLink,
)
from apps.core.db import delete_together
from apps.core.privacy import ErasureReport, RestrictionScope, register
from apps.customers.models import Customer

CONTEXT_FIELDS = ("ip_address", "user_agent")


def _theirs(customer_id: int, prefix: str = "") -> Q:
    """The person's ledger events: recorded under their account, or under a cookie-banner
    visitor id linked to them at login (choices made before logging in, with IP and browser)."""
    visitors = VisitorLink.objects.filter(customer_id=customer_id).values("visitor_id")
    return Q(**{f"{prefix}customer_id": customer_id}) | Q(**{f"{prefix}visitor_id__in": visitors})


def export(customer_id: int) -> dict[str, list[dict]]:
    events = ConsentEvent.objects.filter(_theirs(customer_id)).select_related(
        "purpose", "policy_version", "wording"
    )
    contexts = {
        c.event_id: c
        for c in ConsentEventContext.objects.filter(_theirs(customer_id, prefix="event__"))
    }
    return {
        "consents": [
            {"purpose": s.purpose.code, "status": s.status, "since": s.updated_at}
            for s in ConsentState.objects.filter(customer_id=customer_id).select_related("purpose")
        ],
        "consent_history": [
            {
                "purpose": e.purpose.code,
                "action": e.action,
                "source": e.source,
                "at": e.occurred_at,
                "policy_version": e.policy_version.version if e.policy_version else None,
                "wording": e.wording.text,
                "ip_address": contexts[e.pk].ip_address if e.pk in contexts else None,
                "user_agent": contexts[e.pk].user_agent if e.pk in contexts else "",
            }
            for e in events.order_by("occurred_at", "pk")
        ],
        "third_party_provision": [
            {
                "recipient": r.recipient_name,
                "recipient_address": r.recipient_address,
                "provided_on": r.provided_on,
                "data_items": r.data_items,
                "basis": r.basis,
            }
            for r in ProvisionRecord.objects.filter(customers=customer_id)
        ],
        "received_from_third_parties": [
            {
                "provider": r.provider_name,
                "received_on": r.received_on,
                "data_items": r.data_items,
                "how_acquired": r.how_acquired,
            }
            for r in ReceiptRecord.objects.filter(customers=customer_id)
        ],
        "restrictions": list(
            PersonRestriction.objects.filter(customer_id=customer_id).values(
                "stop_use", "stop_provision", "updated_at"
            )
        ),
    }


def _kept(customer_id: int) -> dict:
    """What stays, in one query: provision and receipt records (3 years) and the ledger."""
    events = (
        ConsentEvent.objects.filter(customer_id=OuterRef("pk"))
        .values("customer_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        Customer.objects.filter(pk=customer_id)
        .values("pk")
        .annotate(
            provisions=Count("provision_records", distinct=True),
            provisions_until=Max("provision_records__retain_until"),
            receipts=Count("receipt_records", distinct=True),
            receipts_until=Max("receipt_records__retain_until"),
            events=Coalesce(Subquery(events), 0),
        )
        .get()
    )


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    report = ErasureReport()
    customer_id = person.pk
    # Both deletes go in one statement, which sees the links as they were before it.
    contexts = ConsentEventContext.objects.filter(_theirs(customer_id, prefix="event__"))
    links = VisitorLink.objects.filter(customer_id=customer_id)
    if dry_run:
        report.anonymised["consents.ConsentState"] = ConsentState.objects.filter(
            customer_id=customer_id,
            status__in=[ConsentState.Status.GRANTED, ConsentState.Status.PENDING],
        ).count()
        report.deleted["consents.ConsentEventContext"] = contexts.count()
        report.deleted["consents.VisitorLink"] = links.count()
    else:
        report.anonymised["consents.ConsentState"] = services.consent_withdraw_all(
            customer=person,
            locked=True,
            source=Source.PRIVACY_REQUEST,
            wording="Withdrawn on erasure of the person's data.",
        )
        (
            report.deleted["consents.ConsentEventContext"],
            report.deleted["consents.VisitorLink"],
        ) = delete_together(contexts, links)
    # After the withdrawal, so that the ledger count includes its events.
    kept = _kept(customer_id)
    if kept["provisions"]:
        report.kept["consents.ProvisionRecord"] = (
            kept["provisions"],
            gettext_noop(
                "Records of provision to third parties must be kept for 3 years (APPI Art. 29)."
            ),
            kept["provisions_until"],
        )
    if kept["receipts"]:
        report.kept["consents.ReceiptRecord"] = (
            kept["receipts"],
            gettext_noop(
                "Records of data received from third parties must be kept for 3 years "
                "(APPI Art. 30)."
            ),
            kept["receipts_until"],
        )
    if kept["events"]:
        report.kept["consents.ConsentEvent"] = (
            kept["events"],
            gettext_noop(
                "The consent ledger is evidence of what the person agreed to; it keeps ids only."
            ),
            None,
        )
    return report


def restrict(customer_id: int, scope: str, *, active: bool = True) -> int:
    customer = Customer.objects.get(pk=customer_id)
    current = PersonRestriction.objects.filter(customer_id=customer_id).first()
    field = "stop_use" if scope == RestrictionScope.STOP_USE else "stop_provision"
    if current is not None and getattr(current, field) == active:
        return 0
    if current is None and not active:
        return 0
    services.restriction_set(customer=customer, **{field: active})
    return 1


register(
    "consents",
    exporter=export,
    eraser=erase,
    restricter=restrict,
    covers={"consents.ConsentEventContext": CONTEXT_FIELDS},
    order=50,
)
