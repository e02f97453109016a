"""Shipping addresses, one default per customer, changed under the person's lock."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.locks import person_lock
from apps.core.unchanged import UNCHANGED, Unchanged, given
from apps.customers.models import Address, Customer

ADDRESS_EDITABLE_FIELDS = (
    "label",
    "recipient_name",
    "country",
    "postal_code",
    "prefecture",
    "city",
    "line1",
    "line2",
    "phone",
)


def _lock_addresses(customer: Customer) -> list[Address]:
    # Lock the customer first, then their addresses, always in that order.
    person_lock(customer_id=customer.pk)
    return list(Address.objects.select_for_update().filter(customer=customer).order_by("pk"))


@transaction.atomic
def address_create(
    # A field left out is empty, and the model's validation says which are required.
    *,
    customer: Customer,
    label: str = "",
    recipient_name: str = "",
    country: str = "",
    postal_code: str = "",
    prefecture: str = "",
    city: str = "",
    line1: str = "",
    line2: str = "",
    phone: str = "",
    make_default: bool = False,
) -> Address:
    existing = _lock_addresses(customer)
    address = Address(
        customer=customer,
        label=label,
        recipient_name=recipient_name,
        country=country,
        postal_code=postal_code,
        prefecture=prefecture,
        city=city,
        line1=line1,
        line2=line2,
        phone=phone,
    )
    address.full_clean(exclude=["is_default"])
    # The first address is the default one.
    make_default = make_default or not existing
    if make_default:
        Address.objects.filter(customer=customer, is_default=True).update(is_default=False)
    address.is_default = make_default
    address.save()
    return address


@transaction.atomic
def address_update(
    *,
    address: Address,
    label: str | Unchanged = UNCHANGED,
    recipient_name: str | Unchanged = UNCHANGED,
    country: str | Unchanged = UNCHANGED,
    postal_code: str | Unchanged = UNCHANGED,
    prefecture: str | Unchanged = UNCHANGED,
    city: str | Unchanged = UNCHANGED,
    line1: str | Unchanged = UNCHANGED,
    line2: str | Unchanged = UNCHANGED,
    phone: str | Unchanged = UNCHANGED,
    make_default: bool = False,
) -> Address:
    _lock_addresses(address.customer)
    address = Address.objects.get(pk=address.pk)
    changes = given(
        label=label,
        recipient_name=recipient_name,
        country=country,
        postal_code=postal_code,
        prefecture=prefecture,
        city=city,
        line1=line1,
        line2=line2,
        phone=phone,
    )
    for name, value in changes.items():
        setattr(address, name, value)
    address.full_clean(exclude=["is_default"])
    if make_default and not address.is_default:
        Address.objects.filter(customer_id=address.customer_id, is_default=True).update(
            is_default=False
        )
        address.is_default = True
    address.save()
    return address


@transaction.atomic
def address_set_default(*, address: Address) -> Address:
    _lock_addresses(address.customer)
    Address.objects.filter(customer_id=address.customer_id, is_default=True).exclude(
        pk=address.pk
    ).update(is_default=False)
    Address.objects.filter(pk=address.pk).update(is_default=True)
    address.refresh_from_db()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Delete an address; if it was the default, the oldest remaining one becomes default."""
    remaining = [a for a in _lock_addresses(address.customer) if a.pk != address.pk]
    was_default = Address.objects.filter(pk=address.pk, is_default=True).exists()
    Address.objects.filter(pk=address.pk).delete()
    if was_default and remaining:
        Address.objects.filter(pk=remaining[0].pk).update(is_default=True)


# What a correction request (APPI Art. 34, GDPR Art. 16) may change on an address: what the
# person can edit themselves, less their own label for it.
ADDRESS_CORRECTABLE_FIELDS = tuple(name for name in ADDRESS_EDITABLE_FIELDS if name != "label")


@transaction.atomic
def address_correct(
    *, customer: Customer, address_id: int, changes: dict[str, object], dry_run: bool = False
) -> dict[str, list[str]]:
    """Apply a correction request's changes to one of ``customer``'s addresses, validated as
    the address form's model is; ``dry_run``: validate only (at receipt). Returns what changed,
    {field: [old, new]}. An address not theirs, a field not correctable or a bad value is a
    ValidationError and changes nothing."""
    unknown = set(changes) - set(ADDRESS_CORRECTABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("These address fields cannot be changed here: %s") % ", ".join(sorted(unknown))
        )
    if not dry_run:
        _lock_addresses(customer)
    address = Address.objects.filter(customer=customer, pk=address_id).first()
    if address is None:
        raise ValidationError(_("This person has no such address (it may have been deleted)."))
    before = {name: getattr(address, name) for name in changes}
    for name, value in changes.items():
        setattr(address, name, "" if value is None else str(value).strip())
    address.full_clean(exclude=["is_default"])
    applied = {
        name: [old, getattr(address, name)]
        for name, old in before.items()
        if old != getattr(address, name)
    }
    if applied and not dry_run:
        address.save(update_fields=list(applied))
    return applied
