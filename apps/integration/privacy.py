"""Export and erasure of what the integration app holds about a person: the ids the shop's
other systems (its storefront, an EC-CUBE or Shopify shop) know them by.

The disclosure names each system and its id for the person, so they see which of the shop's
systems hold a copy of their data. Erasure replaces each id by a keyed hash of it
(``erased_external_id``, keyed as the suppression list is): the id itself is gone, but when the
system sends the same id again the API recognises it and answers that the person was erased
(409) instead of creating them anew, which is what keeps a nightly sync from bringing an erased
person back. Whatever must tell those systems of the erasure reads the ids before this eraser
runs (it runs just before the customer row is emptied). API call logs hold our ids only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.db import update_each
from apps.core.privacy import Column, ErasureReport, Section, register
from apps.customers.models import Customer
from apps.integration.ingest.customers import ERASED_PREFIX, erased_external_id
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
            .exclude(external_id__startswith=ERASED_PREFIX)
            .select_related("client")
            .order_by("pk")
        )
    ]


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    """Replace each of the person's external ids by its keyed hash: two statements (a person
    has one id per connected system); running it again finds none left."""
    return _erase([person.pk], dry_run=dry_run)


def erase_many(people: list[Customer], *, dry_run: bool = False) -> ErasureReport:
    """`erase` for a batch of people: the same two statements over all of their ids."""
    return _erase([person.pk for person in people], dry_run=dry_run)


def _erase(customer_ids: list[int], *, dry_run: bool) -> ErasureReport:
    rows = list(
        ExternalCustomer.objects.filter(customer_id__in=customer_ids)
        .exclude(external_id__startswith=ERASED_PREFIX)
        .only("pk", "client_id", "external_id")
    )
    report = ErasureReport()
    report.anonymised["integration.ExternalCustomer"] = len(rows)
    if rows and not dry_run:
        for row in rows:
            row.external_id = erased_external_id(
                client_id=row.client_id, external_id=row.external_id
            )
        update_each(rows, "external_id")
    return report


register(
    "integration",
    exporter=export,
    eraser=erase,
    erase_many=erase_many,
    covers={"integration.ExternalCustomer": EXTERNAL_CUSTOMER_FIELDS},
    sections=(SHOP_SYSTEMS,),
    runs_before=("customers",),
    labels={
        "integration.ExternalCustomer": _(
            "your ids in the shop's other systems (kept as a one-way code, so that they cannot "
            "send your data again)"
        )
    },
)
