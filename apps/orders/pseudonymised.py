"""The pseudonymised export for analysis (APPI Art. 41, 仮名加工情報).

Orders and customers as CSV for sales analysis, made so that nobody can tell who a row is about
without other information (Enforcement Rules Art. 31):

- every id is replaced by a keyed id: HMAC-SHA256 with ``PSEUDONYMISATION_KEY`` of the kind and
  the primary key, so one person has the same id in every export (analyses can join orders to
  customers and across months) but nobody without the key can compute or reverse it. The key is
  the "information on the deleted descriptions" the shop keeps apart (Art. 41(2));
- no names, kana, e-mail addresses, phone numbers, street addresses or order numbers;
- dates coarsened to the month (the year for a date of birth), postal codes to their first
  three digits (the area, 〒150-xxxx → 150);
- rows of people whose use is stopped (APPI Art. 35 stop of use), erased people and orders kept
  only for tax ("use suspended") are left out: their data may not be used for analysis.

It is streamed in chunks of ids (it may be big), two queries per chunk, and the people whose
data leaves in a chunk are written to the access log (one row per chunk holding their ids) as
exported, by the staff user who asked, before the chunk is sent. Only a user with ``audit.export_personal_data`` (the privacy officer)
may run it: from the order admin (a download) or ``manage.py export_pseudonymised``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils import timezone

from apps.core import csvsafe
from apps.core.access import access_record, access_recording_available
from apps.customers.models import Address, Customer
from apps.orders.models import Order, OrderLine

CHUNK = 2000
EXPORT_PERMISSION = "audit.export_personal_data"
KINDS = ("orders", "customers")

ORDER_COLUMNS = ("order_id", "customer_id", "month", "status", "subtotal", "shipping_fee",
                 "total", "items", "postal_area")  # fmt: skip
CUSTOMER_COLUMNS = ("customer_id", "member", "acquired_via", "status", "first_seen_month",
                    "birth_year", "postal_area")  # fmt: skip

LogAccess = Callable[[list[int]], object]


def pseudonym(kind: str, pk: int) -> str:
    """The keyed id of one row: stable for the same key, meaningless without it."""
    key = settings.PSEUDONYMISATION_KEY
    if not key:
        raise ImproperlyConfigured("PSEUDONYMISATION_KEY is not set")
    digest = hmac.new(key.encode(), f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def postal_area(postal_code: str) -> str:
    """The first three digits of a postal code (its area), nothing finer."""
    return re.sub(r"\D", "", postal_code or "")[:3]


def _month(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m") if moment else ""


def _usable_customers():
    # Stop of use is kept by the consents app (its PersonRestriction, reached through the
    # reverse relation Customer.restriction): the orders app must not import it.
    return Customer.objects.exclude(status=Customer.Status.ERASED).exclude(
        restriction__stop_use=True
    )


def _chunks(queryset, fields: tuple[str, ...]) -> Iterator[list[dict]]:
    """Keyset pagination by primary key: a fixed number of queries per chunk, nothing held."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk").values("pk", *fields)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["pk"]


def order_rows(log_access: LogAccess) -> Iterator[list]:
    orders = Order.objects.filter(use_suspended=False, customer__in=_usable_customers())
    fields = ("customer_id", "placed_at", "status", "subtotal", "shipping_fee", "total",
              "ship_postal_code")  # fmt: skip
    for chunk in _chunks(orders, fields):
        items = defaultdict(list)
        lines = OrderLine.objects.filter(order_id__in=[o["pk"] for o in chunk]).order_by("pk")
        for order_id, sku, quantity in lines.values_list("order_id", "sku", "quantity"):
            items[order_id].append(f"{sku}x{quantity}")
        log_access(sorted({o["customer_id"] for o in chunk}))
        for o in chunk:
            yield [
                pseudonym("order", o["pk"]),
                pseudonym("customer", o["customer_id"]),
                _month(o["placed_at"]),
                o["status"],
                o["subtotal"],
                o["shipping_fee"],
                o["total"],
                ";".join(items[o["pk"]]),
                postal_area(o["ship_postal_code"]),
            ]


def customer_rows(log_access: LogAccess) -> Iterator[list]:
    fields = ("user_id", "acquired_via", "status", "created_at", "date_of_birth")
    for chunk in _chunks(_usable_customers(), fields):
        ids = [c["pk"] for c in chunk]
        areas = dict(
            Address.objects.filter(customer_id__in=ids, is_default=True).values_list(
                "customer_id", "postal_code"
            )
        )
        log_access(ids)
        for c in chunk:
            birth = c["date_of_birth"]
            yield [
                pseudonym("customer", c["pk"]),
                1 if c["user_id"] else 0,
                c["acquired_via"],
                c["status"],
                _month(c["created_at"]),
                birth.year if birth else "",
                postal_area(areas.get(c["pk"], "")),
            ]


class _Echo:
    def write(self, value):
        return value


def pseudonymised_csv(*, kind: str, staff_user, ip_address: str | None = None) -> Iterator[str]:
    """CSV lines of the export of ``kind`` ("orders" or "customers"), each chunk's people
    written to the access log as exported by ``staff_user`` before the chunk is sent.

    Checks everything before the first line, so a refusal leaves no log and sends nothing."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}")
    if not (
        staff_user.is_active and staff_user.is_staff and staff_user.has_perm(EXPORT_PERMISSION)
    ):
        raise PermissionDenied
    if not settings.PSEUDONYMISATION_KEY:
        raise ImproperlyConfigured("PSEUDONYMISATION_KEY is not set")
    if not access_recording_available():
        raise ImproperlyConfigured("the access log is not available")

    def log_access(customer_ids: list[int]) -> None:
        access_record(
            staff_user_id=staff_user.pk,
            action="export",
            model_label=Customer._meta.label,
            object_ids=customer_ids,
            ip_address=ip_address,
        )

    columns, rows = (
        (ORDER_COLUMNS, order_rows) if kind == "orders" else (CUSTOMER_COLUMNS, customer_rows)
    )

    def lines() -> Iterator[str]:
        writer = csvsafe.writer(_Echo())
        yield writer.writerow(columns)
        for row in rows(log_access):
            yield writer.writerow(row)

    return lines()
