"""Export and erasure of what the orders app holds about a person.

Orders are accounting records: the shop must keep order numbers, amounts and dates for the tax
hold (Corporation Tax Act, 7 years). Erasure removes every personal field from them and marks
them use-suspended until the hold expires.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, DateField, Func, Max, Q
from django.db.models.functions import TruncDate

from apps.core.dates import add_years
from apps.core.privacy import ErasureReport, register
from apps.customers.models import Customer
from apps.orders.models import Order, Payment

ORDER_FIELDS = ("ship_name", "ship_postal_code", "ship_address", "ship_phone")
PAYMENT_FIELDS = ("card_last4",)


def tax_hold_until(placed: datetime.datetime) -> datetime.date:
    return add_years(placed.date(), getattr(settings, "TAX_HOLD_YEARS", 7))


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


class AddYears(Func):
    """`date + n years` in SQL, with 29 February becoming the 28th like `tax_hold_until`."""

    output_field = DateField()

    def __init__(self, date, years: int):
        self.years = int(years)
        super().__init__(date)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) + make_interval(years => {self.years}))::date", params

    def as_sql(self, compiler, connection, **extra):  # SQLite
        sql, params = compiler.compile(self.source_expressions[0])
        shifted = f"date({sql}, '+{self.years} years')"
        return (
            f"CASE WHEN strftime('%%m', {shifted}) = strftime('%%m', {sql}) THEN {shifted} "
            f"ELSE date({shifted}, 'start of month', '-1 day') END",
            [*params] * 4,
        )


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    """One UPDATE for all of the person's orders and one for their payments, however many
    there are: the number of queries does not grow with the number of orders."""
    report = ErasureReport()
    orders = Order.objects.filter(customer_id=person.pk)
    with_personal = orders.filter(
        ~Q(ship_name="")
        | ~Q(ship_postal_code="")
        | ~Q(ship_address="")
        | ~Q(ship_phone="")
        | Q(use_suspended=False)
    )
    payments = Payment.objects.filter(order__customer_id=person.pk).exclude(card_last4="")
    if dry_run:
        report.anonymised["orders.Order"] = with_personal.count()
        report.anonymised["orders.Payment"] = payments.count()
    else:
        years = getattr(settings, "TAX_HOLD_YEARS", 7)
        report.anonymised["orders.Order"] = with_personal.update(
            **dict.fromkeys(ORDER_FIELDS, ""),
            use_suspended=True,
            hold_until=AddYears(TruncDate("placed_at", tzinfo=datetime.UTC), years),
        )
        report.anonymised["orders.Payment"] = payments.update(card_last4="")
    kept = orders.aggregate(count=Count("pk"), last=Max("placed_at"))
    if kept["count"]:
        report.kept["orders.Order"] = (
            kept["count"],
            "Order numbers, amounts and dates are tax records the law requires us to keep "
            "(7 years); their personal fields are removed and their use is suspended.",
            tax_hold_until(kept["last"]),
        )
    return report


register(
    "orders",
    exporter=export,
    eraser=erase,
    covers={"orders.Order": ORDER_FIELDS, "orders.Payment": PAYMENT_FIELDS},
    order=10,
)
