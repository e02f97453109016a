"""A correction's changes beyond the profile: the person's addresses and their orders' shipping
snapshots, named in ``requested_changes`` as ``address:<id>:<field>`` and
``order:<number>:<field>`` (profile fields keep their bare names). The owning apps' services
check and apply them (apps/customers ``address_correct``, apps/orders ``order_ship_correct``):
this app names no other app's model."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SCOPED = re.compile(r"(address|order):([A-Za-z0-9-]{1,20}):([a-z0-9_]{1,40})")


def changes_split(changes: dict) -> tuple[dict, dict[int, dict], dict[str, dict]]:
    """Profile changes, address changes by address id, order changes by order number."""
    profile: dict = {}
    addresses: dict[int, dict] = {}
    orders: dict[str, dict] = {}
    for key, value in changes.items():
        if ":" not in key:
            profile[key] = value
            continue
        match = SCOPED.fullmatch(key)
        if match is None or (match[1] == "address" and not match[2].isdigit()):
            raise ValidationError(
                {"requested_changes": _("These fields cannot be changed: %s") % key[:80]}
            )
        target = addresses.setdefault(int(match[2]), {}) if match[1] == "address" else None
        if target is None:
            target = orders.setdefault(match[2], {})
        target[match[3]] = value
    return profile, addresses, orders


def changes_apply_scoped(*, customer, addresses: dict, orders: dict, dry_run: bool) -> dict:
    """Check (``dry_run``) or apply the address and order changes; returns what changed, keyed
    as in ``requested_changes``. A ValidationError names the address or order it is about."""
    from apps.customers.services import address_correct
    from apps.orders.services import order_ship_correct

    applied: dict[str, list] = {}
    for address_id, fields in sorted(addresses.items()):
        try:
            done = address_correct(
                customer=customer, address_id=address_id, changes=fields, dry_run=dry_run
            )
        except ValidationError as exc:
            raise ValidationError(
                {"requested_changes": [f"{_('Address')} #{address_id}: {m}" for m in exc.messages]}
            ) from exc
        applied.update({f"address:{address_id}:{k}": v for k, v in done.items()})
    for number, fields in sorted(orders.items()):
        try:
            done = order_ship_correct(
                customer=customer, number=number, changes=fields, dry_run=dry_run
            )
        except ValidationError as exc:
            raise ValidationError(
                {"requested_changes": [f"{_('Order')} {number}: {m}" for m in exc.messages]}
            ) from exc
        applied.update({f"order:{number}:{k}": v for k, v in done.items()})
    return applied


def change_label(name: str) -> str:
    """A changed field as people read it: "Postal code (address #12)", "Ship to: phone
    (order 2026-000123)", or the profile field's own name."""
    from apps.customers.selectors import address_field_label, customer_field_label
    from apps.orders.selectors import order_field_label

    match = SCOPED.fullmatch(name)
    if match is None:
        return customer_field_label(name=name)
    if match[1] == "address":
        return _("%(field)s (address #%(id)s)") % {
            "field": address_field_label(name=match[3]),
            "id": match[2],
        }
    return _("%(field)s (order %(number)s)") % {
        "field": order_field_label(name=match[3]),
        "number": match[2],
    }
