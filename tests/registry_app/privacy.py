"""Export and erasure of the loyalty cards a person holds: the whole of what this app says to
the registry. Registered by the tests that use it (`register_loyalty`), not at start-up, so
the rest of the suite sees the project's own apps only."""

from __future__ import annotations

from apps.core.privacy import ErasureReport, Section, columns_of, register
from apps.customers.models import Customer
from tests.registry_app.models import LoyaltyCard

CARD_FIELDS = ("number", "tier", "points", "issued_at", "nickname")
# Labels are the fields' verbose names, choices their labels: nothing to write but the list.
CARDS = Section("cards", "Loyalty cards", columns_of(LoyaltyCard, *CARD_FIELDS))


def export(customer_id: int) -> list[Section]:
    cards = LoyaltyCard.objects.filter(customer_id=customer_id).order_by("pk")
    return [CARDS.with_rows(cards.values(*CARD_FIELDS))]


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    report = ErasureReport()
    cards = LoyaltyCard.objects.filter(customer_id=person.pk)
    if dry_run:
        report.deleted["loyalty.LoyaltyCard"] = cards.count()
    else:
        report.deleted["loyalty.LoyaltyCard"] = cards._raw_delete(cards.db)  # nothing points here
    return report


def register_loyalty() -> None:
    register(
        "loyalty",
        exporter=export,
        eraser=erase,
        covers={"loyalty.LoyaltyCard": ("number", "nickname")},
        sections=(CARDS,),
        runs_before=("customers",),
    )
