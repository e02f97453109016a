"""Export, erasure and restriction of what the consents app holds about a person.

Erasure withdraws every open consent (new ledger events: the ledger itself is never rewritten
and holds ids only), deletes the IP addresses and user agents kept beside the ledger, and keeps
provision and receipt records for their statutory 3 years (APPI Art. 29/30)."""

from __future__ import annotations

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from apps.consents import services
from apps.consents.models import (
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    PersonRestriction,
    ProvisionRecord,
    Purpose,
    ReceiptRecord,
    Source,
    VisitorLink,
)
from apps.core.db import delete_together
from apps.core.privacy import Column, ErasureReport, RestrictionScope, Section, register
from apps.customers.models import Customer

CONTEXT_FIELDS = ("ip_address", "user_agent")


def _theirs(customer_id: int, prefix: str = "") -> Q:
    """The person's ledger events: recorded under their account, or under a cookie-banner
    visitor id linked to them at login (choices made before logging in, with IP and browser)."""
    visitors = VisitorLink.objects.filter(customer_id=customer_id).values("visitor_id")
    return Q(**{f"{prefix}customer_id": customer_id}) | Q(**{f"{prefix}visitor_id__in": visitors})


def _of_all(customer_ids: list[int], prefix: str = "") -> Q:
    """`_theirs` for a batch of people."""
    visitors = VisitorLink.objects.filter(customer_id__in=customer_ids).values("visitor_id")
    return Q(**{f"{prefix}customer_id__in": customer_ids}) | Q(
        **{f"{prefix}visitor_id__in": visitors}
    )


def _purpose_names() -> dict[str, str]:
    """The purposes of use in the active language: the rows give their codes only."""
    return {purpose.code: purpose.name for purpose in Purpose.objects.all()}


PURPOSE = Column("purpose", _("Purpose of use"), choices=_purpose_names)
DATA_ITEMS = Column("data_items", _("Data items"))

CONSENTS = Section(
    "consents",
    pgettext_lazy("disclosure page section", "Consents (current)"),
    (
        PURPOSE,
        Column("status", _("Status"), choices=ConsentState.Status),
        Column("since", _("Last changed at")),
    ),
    _("What you currently agree to, for each purpose of use."),
)
CONSENT_HISTORY = Section(
    "consent_history",
    pgettext_lazy("disclosure page section", "Consent history"),
    (
        PURPOSE,
        Column("action", _("Given or withdrawn"), choices=ConsentEvent.Action),
        Column("source", _("Via"), choices=Source),
        Column("at", _("Date and time")),
        Column("policy_version", _("Privacy policy version")),
        Column("wording", _("Text you were shown")),
        Column("ip_address", _("IP address")),
        Column("user_agent", _("Browser (user agent)")),
    ),
    _("Every time you gave or withdrew consent, with the text you were shown."),
)
THIRD_PARTY_PROVISION = Section(
    "third_party_provision",
    pgettext_lazy("disclosure page section", "Third-party provision records"),
    (
        Column("recipient", _("Recipient")),
        Column("recipient_address", _("Recipient's address")),
        Column("provided_on", _("Provided on")),
        DATA_ITEMS,
        Column("basis", _("Basis"), choices=ProvisionRecord.Basis),
    ),
    _("When we provided your data to another company: to whom and on what basis."),
)
RECEIVED_FROM_THIRD_PARTIES = Section(
    "received_from_third_parties",
    pgettext_lazy("disclosure page section", "Data received from third parties"),
    (
        Column("provider", _("Provided by")),
        Column("received_on", pgettext_lazy("data received from a third party", "Received on")),
        DATA_ITEMS,
        Column("how_acquired", _("How the provider obtained the data")),
    ),
    _("Data about you we received from another company, and how they obtained it."),
)
RESTRICTIONS = Section(
    "restrictions",
    pgettext_lazy("disclosure page section", "Restrictions of use"),
    (
        Column("stop_use", _("Stop of use")),
        Column("stop_provision", _("Stop of provision to third parties")),
        Column("updated_at", _("Updated at")),
    ),
    _("Whether you asked us to stop using your data or to stop providing it to others."),
)


def export(customer_id: int) -> list[Section]:
    events = ConsentEvent.objects.filter(_theirs(customer_id)).select_related(
        "purpose", "policy_version", "wording"
    )
    contexts = {
        c.event_id: c
        for c in ConsentEventContext.objects.filter(_theirs(customer_id, prefix="event__"))
    }
    return [
        CONSENTS.with_rows(
            {"purpose": s.purpose.code, "status": s.status, "since": s.updated_at}
            for s in ConsentState.objects.filter(customer_id=customer_id).select_related("purpose")
        ),
        CONSENT_HISTORY.with_rows(
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
        ),
        THIRD_PARTY_PROVISION.with_rows(
            {
                "recipient": r.recipient_name,
                "recipient_address": r.recipient_address,
                "provided_on": r.provided_on,
                "data_items": r.data_items,
                "basis": r.basis,
            }
            for r in ProvisionRecord.objects.filter(customers=customer_id)
        ),
        RECEIVED_FROM_THIRD_PARTIES.with_rows(
            {
                "provider": r.provider_name,
                "received_on": r.received_on,
                "data_items": r.data_items,
                "how_acquired": r.how_acquired,
            }
            for r in ReceiptRecord.objects.filter(customers=customer_id)
        ),
        RESTRICTIONS.with_rows(
            PersonRestriction.objects.filter(customer_id=customer_id).values(
                "stop_use", "stop_provision", "updated_at"
            )
        ),
    ]


def _kept_of(customer_ids: list[int]) -> list[dict]:
    """What stays of each person, in one query: provision and receipt records (3 years) and
    the ledger."""
    events = (
        ConsentEvent.objects.filter(customer_id=OuterRef("pk"))
        .values("customer_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        Customer.objects.filter(pk__in=customer_ids)
        .values("pk")
        .annotate(
            provisions=Count("provision_records", distinct=True),
            provisions_until=Max("provision_records__retain_until"),
            receipts=Count("receipt_records", distinct=True),
            receipts_until=Max("receipt_records__retain_until"),
            events=Coalesce(Subquery(events), 0),
        )
        .order_by("pk")
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
    for kept in _kept_of([customer_id]):
        _report_kept(report, kept)
    return report


def erase_many(people: list[Customer], *, dry_run: bool = False) -> ErasureReport:
    """`erase` for a batch of people (their rows locked): the same withdrawals, published
    changes and deletions, in a fixed number of statements whatever their number."""
    report = ErasureReport()
    ids = [person.pk for person in people]
    contexts = ConsentEventContext.objects.filter(_of_all(ids, prefix="event__"))
    links = VisitorLink.objects.filter(customer_id__in=ids)
    if dry_run:
        report.anonymised["consents.ConsentState"] = ConsentState.objects.filter(
            customer_id__in=ids,
            status__in=[ConsentState.Status.GRANTED, ConsentState.Status.PENDING],
        ).count()
        report.deleted["consents.ConsentEventContext"] = contexts.count()
        report.deleted["consents.VisitorLink"] = links.count()
    else:
        report.anonymised["consents.ConsentState"] = services.consent_withdraw_all_many(
            customers=people,
            source=Source.PRIVACY_REQUEST,
            wording="Withdrawn on erasure of the person's data.",
        )
        (
            report.deleted["consents.ConsentEventContext"],
            report.deleted["consents.VisitorLink"],
        ) = delete_together(contexts, links)
    # Each person's counts, as their own erasure reports them, added up.
    for kept in _kept_of(ids):
        one = ErasureReport()
        _report_kept(one, kept)
        report.add(one)
    return report


def _report_kept(report: ErasureReport, kept: dict) -> None:
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
    erase_many=erase_many,
    restricter=restrict,
    covers={"consents.ConsentEventContext": CONTEXT_FIELDS},
    sections=(
        CONSENTS,
        CONSENT_HISTORY,
        THIRD_PARTY_PROVISION,
        RECEIVED_FROM_THIRD_PARTIES,
        RESTRICTIONS,
    ),
    # The marketing eraser unsubscribes first (it says so: consents names no app above it);
    # the withdrawal here then covers every consent.
    runs_before=("customers",),
    labels={
        "consents.VisitorLink": _("links between your cookie choices and your account"),
        "consents.ConsentEventContext": _("IP addresses and browsers recorded with your consents"),
    },
)
