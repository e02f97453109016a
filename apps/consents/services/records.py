"""Restrictions of use and provision, third-party provision records and receipt records."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.consents.models import (
    ConsentEvent,
    ConsentState,
    Contractor,
    PersonRestriction,
    ProvisionRecord,
    Purpose,
    ReceiptRecord,
)
from apps.customers.models import Customer, User

logger = logging.getLogger(__name__)

Action = ConsentEvent.Action
Status = ConsentState.Status


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
    stopped = Q(status__in=[Customer.Status.ERASED]) | Q(restriction__stop_use=True)
    # Consignment to a contractor is not provision to a third party (APPI Art. 27(5)(i)): a
    # stop of provision does not stop it (a stop of use still does).
    if basis != ProvisionRecord.Basis.CONSIGNMENT:
        stopped |= Q(restriction__stop_provision=True)
    refused = set(Customer.objects.filter(pk__in=ids).filter(stopped).values_list("pk", flat=True))
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
