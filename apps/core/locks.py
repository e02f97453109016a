"""Row locks on one person's rows, always taken in the same order.

Two transactions that lock the same rows in opposite orders deadlock: an unsubscribe that held
the subscription and then asked for the customer, against an erasure that held the customer and
then deleted the subscriptions, made PostgreSQL kill one of them under load. So every service
that locks a person's rows does it here, in one order (as Saleor's ``order/lock_objects.py``
does for orders and their lines):

1. the customer (``customers.Customer``),
2. then their mail-magazine subscriptions (``marketing.Subscription``),
3. then their privacy requests (``privacy_requests.PrivacyRequest``),

each list by primary key. Anything else a service locks for the person (addresses, consent
states) comes after these. The models are named by label so that this module, below every app,
imports none of them (SPEC §2: nothing imports privacy_requests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import QuerySet

CUSTOMER = "customers.Customer"
SUBSCRIPTION = "marketing.Subscription"
PRIVACY_REQUEST = "privacy_requests.PrivacyRequest"
# Which of a person's rows to lock after the customer: every one of them, only those a queryset
# (of that model, with any select_related) selects, or none.
Rows = QuerySet | bool


@dataclass
class PersonLocks:
    customer: Any
    subscriptions: list[Any] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)


def _locked(label: str, rows: Rows, customer_id: int) -> list[Any]:
    if rows is False or label.split(".")[0] not in apps.app_configs:
        return []
    queryset = apps.get_model(label).objects.all() if rows is True else rows
    return list(
        queryset.filter(customer_id=customer_id).select_for_update(of=("self",)).order_by("pk")
    )


def person_lock(
    *,
    customer_id: int,
    subscriptions: Rows = False,
    requests: Rows = False,
    customer_related: tuple[str, ...] = (),
) -> PersonLocks:
    """Lock the person's customer row, then the subscriptions and then the privacy requests
    asked for, until the surrounding transaction ends; return them, loaded.

    Raises the customer model's DoesNotExist when there is no such person. A subscription or
    request deleted meanwhile (an erasure that committed while we waited) is simply absent from
    the lists: callers check for what they need.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("person_lock() outside a transaction would release its locks at once")
    customer = (
        apps.get_model(CUSTOMER)
        .objects.select_for_update(of=("self",))
        .select_related(*customer_related)
        .get(pk=customer_id)
    )
    return PersonLocks(
        customer=customer,
        subscriptions=_locked(SUBSCRIPTION, subscriptions, customer_id),
        requests=_locked(PRIVACY_REQUEST, requests, customer_id),
    )


def people_lock(
    *,
    customer_ids: list[int],
    subscriptions: bool = False,
    requests: bool = False,
    customer_related: tuple[str, ...] = (),
) -> list[Any]:
    """`person_lock` for many people at once (a batch of the retention job), in the same order:
    every customer row by primary key, then all their subscriptions, then all their requests,
    three statements whatever their number. Returns the customers still there, by id."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("people_lock() outside a transaction would release its locks at once")
    customers = list(
        apps.get_model(CUSTOMER)
        .objects.select_for_update(of=("self",))
        .select_related(*customer_related)
        .filter(pk__in=customer_ids)
        .order_by("pk")
    )
    ids = [customer.pk for customer in customers]
    for label, wanted in ((SUBSCRIPTION, subscriptions), (PRIVACY_REQUEST, requests)):
        if wanted and ids and label.split(".")[0] in apps.app_configs:
            list(
                apps.get_model(label)
                .objects.filter(customer_id__in=ids)
                .select_for_update(of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
    return customers
