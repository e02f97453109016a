"""Export and erasure of what the integration app holds about a person: the ids the shop's
other systems (its storefront, an EC-CUBE or Shopify shop) know them by.

The disclosure names each system and its id for the person, so they see which of the shop's
systems hold a copy of their data. Erasure deletes those mappings: after it no call from a
storefront can reach the erased record through its old id. The ids are read by whatever must
tell those systems of the erasure before this eraser runs (it runs just before the customer
row is emptied). API call logs hold our ids only and are not the person's data.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.privacy import Column, ErasureReport, Section, register
from apps.customers.models import Customer
from apps.integration.models import ApiClient, ExternalCustomer

EXTERNAL_CUSTOMER_FIELDS = ("external_id",)

SHOP_SYSTEMS = Section(
    "shop_systems",
    pgettext_lazy("disclosure page section", "Shop systems that know you"),
    (
        Column("system", _("System")),
        Column("kind", _("Kind of system"), choices=ApiClient.System),
        Column("external_id", _("Your id in that system")),
        Column("since", _("Since")),
    ),
    _("The shop's other systems (its online store, its shop software) that sent us your data."),
)


def export(customer_id: int) -> list[Section]:
    return [
        SHOP_SYSTEMS.with_rows(
            {
                "system": row.client.name,
                "kind": row.client.system,
                "external_id": row.external_id,
                "since": row.created_at,
            }
            for row in ExternalCustomer.objects.filter(customer_id=customer_id)
            .select_related("client")
            .order_by("pk")
        )
    ]


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    """Delete the person's external ids: one statement; nothing points at these rows."""
    rows = ExternalCustomer.objects.filter(customer_id=person.pk)
    report = ErasureReport()
    report.deleted["integration.ExternalCustomer"] = (
        rows.count() if dry_run else rows._raw_delete(rows.db)
    )
    return report


register(
    "integration",
    exporter=export,
    eraser=erase,
    covers={"integration.ExternalCustomer": EXTERNAL_CUSTOMER_FIELDS},
    sections=(SHOP_SYSTEMS,),
    runs_before=("customers",),
    labels={"integration.ExternalCustomer": _("your ids in the shop's other systems")},
)
