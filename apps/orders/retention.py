"""Retention rules for what the orders app knows about (registered with apps.core.retention).

- ``inactive_guests``: a guest (a customer without a login) with no order and no inquiry for
  ``RETENTION_GUEST_INACTIVE_YEARS`` years (default 3) is anonymised through every registered
  eraser, exactly as an erasure request would be: the tax records of their orders stay, without
  personal fields, until their hold expires. Restricted guests are left alone: the record
  exists to prevent resale and is reviewed by staff. They go ``RETENTION_GUEST_BATCH`` (500)
  at a time, each batch in one transaction through every eraser's set-based form
  (``personal_data_erase_many``): a fixed number of statements per batch, not per guest.
- ``expired_tax_holds``: an order whose personal fields were erased was kept only for the tax
  hold. The day after ``hold_until`` the shop has no reason left to keep it, so the order is
  deleted with its lines and payment ("release" = delete; sales statistics are aggregated
  elsewhere before then, never from these rows).

The rule lives here rather than in customers because "no order for N years" needs orders, and
customers knows nothing of the apps above it.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.dates import start_of_day
from apps.core.privacy import personal_data_erase_many
from apps.core.retention import register, years_before
from apps.customers.models import Customer
from apps.orders.models import Order

logger = logging.getLogger(__name__)
CHUNK = 500


def _inactive_guests(*, today: datetime.date):
    years = settings.RETENTION_GUEST_INACTIVE_YEARS
    cutoff = start_of_day(years_before(today, years))
    return (
        Customer.objects.filter(user__isnull=True, created_at__lt=cutoff)
        .exclude(status__in=[Customer.Status.ERASED, Customer.Status.RESTRICTED])
        .exclude(orders__placed_at__gte=cutoff)
        .exclude(inquiries__created_at__gte=cutoff)
    )


def inactive_guest_ids(*, today: datetime.date) -> list[int]:
    return list(
        _inactive_guests(today=today).order_by("pk").values_list("pk", flat=True).distinct()
    )


def anonymise_guest_batch(*, customer_ids: list[int], today: datetime.date) -> int:
    """Anonymise those of `customer_ids` who are still inactive guests, in one transaction:
    they are locked and checked again first, so a guest who ordered (or signed up) since they
    were listed is left alone (an order takes the same lock before it is written). Returns how
    many were anonymised."""
    with transaction.atomic():
        still = list(
            _inactive_guests(today=today)
            .filter(pk__in=customer_ids)
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        personal_data_erase_many(customer_ids=still)
    return len(still)


def anonymise_inactive_guests(*, today: datetime.date, dry_run: bool = False) -> int:
    ids = inactive_guest_ids(today=today)
    if dry_run:
        return len(ids)
    size = settings.RETENTION_GUEST_BATCH
    done = 0
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        # One transaction per batch: a failure leaves the batches before it done, and the
        # next run picks the rest up.
        count = anonymise_guest_batch(customer_ids=batch, today=today)
        done += count
        logger.info(
            "retention anonymised inactive guests count=%s of customer_ids=%s..%s",
            count,
            batch[0],
            batch[-1],
        )
    return done


def release_expired_tax_holds(*, today: datetime.date, dry_run: bool = False) -> int:
    expired = Order.objects.filter(use_suspended=True, hold_until__lt=today)
    if dry_run:
        return expired.count()
    done = 0
    while True:
        ids = list(expired.order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return done
        with transaction.atomic():
            Order.objects.filter(pk__in=ids).delete()
        done += len(ids)


register(
    "inactive_guests",
    description="anonymise guests with no order or inquiry for N years",
    apply=anonymise_inactive_guests,
    order=10,
    notice=lambda: (
        _(
            "Guest purchasers (no account): anonymised %(years)s years after their last order or "
            "inquiry."
        )
        % {"years": settings.RETENTION_GUEST_INACTIVE_YEARS}
    ),
)
register(
    "expired_tax_holds",
    description="delete erased orders whose tax hold has expired",
    apply=release_expired_tax_holds,
    order=20,
    notice=lambda: (
        _(
            "Orders of erased people: kept without name or contact details for %(years)s years "
            "as tax records, then deleted."
        )
        % {"years": settings.TAX_HOLD_YEARS}
    ),
)
