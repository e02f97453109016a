"""Export and erasure of what the orders app holds about a person.

Orders are accounting records: the shop must keep order numbers, amounts and dates for the tax
hold (Corporation Tax Act, 7 years). Erasure removes every personal field from them and marks
them use-suspended until the hold expires.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Max, Q

from apps.core.privacy import ErasureReport, register
from apps.orders.models import Order, Payment

ORDER_FIELDS = ("ship_name", "ship_postal_code", "ship_address", "ship_phone")
PAYMENT_FIELDS = ("card_last4",)


def tax_hold_until(placed: datetime.datetime) -> datetime.date:
    years = getattr(settings, "TAX_HOLD_YEARS", 7)
    day = placed.date()
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def export(customer_id: int) -> dict[str, list[dict]]:
    orders = Order.objects.filter(customer_id=customer_id).prefetch_related("lines")
    payments = {p.order_id: p for p in Payment.objects.filter(order__customer_id=customer_id)}
    rows = []
    for order in orders:
        payment = payments.get(order.pk)
        rows.append(
            {
                "number": order.number,
                "placed_at": order.placed_at,
                "status": order.status,
                "total": order.total,
                **{name: getattr(order, name) for name in ORDER_FIELDS},
                "lines": [
                    {
                        "product": line.product_name,
                        "unit_price": line.unit_price,
                        "quantity": line.quantity,
                    }
                    for line in order.lines.all()
                ],
                "payment": {
                    "method": payment.method,
                    "card_brand": payment.card_brand,
                    "card_last4": payment.card_last4,
                }
                if payment
                else None,
            }
        )
    return {"orders": rows}


def erase(customer_id: int, *, dry_run: bool = False) -> ErasureReport:
    report = ErasureReport()
    orders = Order.objects.filter(customer_id=customer_id)
    with_personal = orders.filter(
        ~Q(ship_name="")
        | ~Q(ship_postal_code="")
        | ~Q(ship_address="")
        | ~Q(ship_phone="")
        | Q(use_suspended=False)
    )
    payments = Payment.objects.filter(order__customer_id=customer_id).exclude(card_last4="")
    to_anonymise = list(with_personal.select_for_update().only("pk", "placed_at"))
    report.anonymised["orders.Order"] = len(to_anonymise)
    report.anonymised["orders.Payment"] = payments.count()
    if not dry_run:
        for order in to_anonymise:
            Order.objects.filter(pk=order.pk).update(
                **dict.fromkeys(ORDER_FIELDS, ""),
                use_suspended=True,
                hold_until=tax_hold_until(order.placed_at),
            )
        payments.update(card_last4="")
    kept = orders.count()
    if kept:
        until = (
            orders.aggregate(until=Max("hold_until"))["until"]
            if not dry_run
            else max(tax_hold_until(o.placed_at) for o in orders.only("placed_at"))
        )
        report.kept["orders.Order"] = (
            kept,
            "Order numbers, amounts and dates are tax records the law requires us to keep "
            "(7 years); their personal fields are removed and their use is suspended.",
            until,
        )
    return report


register(
    "orders",
    exporter=export,
    eraser=erase,
    covers={"orders.Order": ORDER_FIELDS, "orders.Payment": PAYMENT_FIELDS},
    order=10,
)
