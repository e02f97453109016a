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
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from apps.core.dates import add_months
from apps.core.db import write_together
from apps.core.privacy import Column, ErasureReport, Section, columns_of, register
from apps.customers.models import Customer
from apps.orders.models import Order, Payment

ORDER_FIELDS = ("ship_name", "ship_postal_code", "ship_address", "ship_phone")
PAYMENT_FIELDS = ("card_last4",)


def tax_hold_until(placed: datetime.datetime) -> datetime.date:
    """The last day an order's records must be kept: TAX_HOLD_YEARS from the day after the tax
    return deadline of the business year the order falls in (a day in the shop's time zone).
    With the defaults (March year end, two months to file, seven years), an order of 10 April
    2024 belongs to the year ending 31 March 2025, filed by 31 May 2025, kept until 31 May
    2032."""
    day = timezone.localdate(placed, timezone.get_default_timezone())
    end_month = settings.FISCAL_YEAR_END_MONTH
    end_year = day.year if day.month <= end_month else day.year + 1
    after_year_end = datetime.date(end_year + end_month // 12, end_month % 12 + 1, 1)
    months = settings.TAX_FILING_MONTHS + 12 * settings.TAX_HOLD_YEARS
    return add_months(after_year_end, months) - datetime.timedelta(days=1)


ORDERS = Section(
    "orders",
    pgettext_lazy("disclosure page section", "Orders"),
    (
        # Labels are the fields' verbose names, except where the page says it in other words.
        *columns_of(
            Order,
            "number",
            "placed_at",
            "status",
            "total",
            *ORDER_FIELDS,
            placed_at=Column("placed_at", _("Ordered at")),
            total=Column("total", _("Total"), money=True),
            ship_name=Column("ship_name", _("Shipping name")),
            ship_postal_code=Column("ship_postal_code", _("Shipping postal code")),
            ship_address=Column("ship_address", _("Shipping address")),
            ship_phone=Column("ship_phone", _("Shipping phone number")),
        ),
        Column(
            "lines",
            _("Items"),
            columns=(
                Column("product", _("Product")),
                Column("unit_price", _("Unit price"), money=True),
                Column("quantity", _("Quantity")),
            ),
        ),
        Column(
            "payment",
            _("Payment"),
            columns=(
                Column("method", _("Payment method"), choices=Payment.Method),
                Column("card_brand", _("Card brand")),
                Column("card_last4", _("Card number (last 4 digits)")),
            ),
        ),
    ),
    _(
        "Your orders, where they were shipped and how they were paid. For cards we keep "
        "only the brand and the last four digits."
    ),
)


def export(customer_id: int) -> list[Section]:
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
    return [ORDERS.with_rows(rows)]


class TaxHoldUntil(Func):
    """`tax_hold_until` in SQL, from a (local) date: shift the business year onto the calendar
    year, take that year's 1 January, add the months to the day after the hold, less one day."""

    output_field = DateField()

    def __init__(self, date):
        self.shift = 12 - settings.FISCAL_YEAR_END_MONTH  # moves the year end to December
        # From 1 January of that calendar year: to the day after the year end, then the filing
        # period and the hold.
        self.months = (
            settings.FISCAL_YEAR_END_MONTH
            + settings.TAX_FILING_MONTHS
            + 12 * settings.TAX_HOLD_YEARS
        )
        super().__init__(date)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(date_trunc('year', ({sql}) + make_interval(months => {self.shift})) "
            f"+ make_interval(months => {self.months}) - interval '1 day')::date",
            params,
        )

    def as_sql(self, compiler, connection, **extra):  # SQLite
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"date({sql}, '+{self.shift} months', 'start of year', '+{self.months} months', "
            "'-1 day')",
            params,
        )


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    """One statement updating all of the person's orders and their payments, and one counting
    what is kept, however many there are: the number of queries does not grow with the number
    of orders."""
    return _erase([person.pk], dry_run=dry_run)


def erase_many(people: list[Customer], *, dry_run: bool = False) -> ErasureReport:
    """`erase` for a batch of people: the same statements over all of their orders."""
    return _erase([person.pk for person in people], dry_run=dry_run)


def _erase(customer_ids: list[int], *, dry_run: bool) -> ErasureReport:
    report = ErasureReport()
    orders = Order.objects.filter(customer_id__in=customer_ids)
    with_personal = orders.filter(
        ~Q(ship_name="")
        | ~Q(ship_postal_code="")
        | ~Q(ship_address="")
        | ~Q(ship_phone="")
        | Q(use_suspended=False)
    )
    payments = Payment.objects.filter(order__customer_id__in=customer_ids).exclude(card_last4="")
    if dry_run:
        report.anonymised["orders.Order"] = with_personal.count()
        report.anonymised["orders.Payment"] = payments.count()
    else:
        # Both updates in one statement: the payments' filter reads the orders' customer, which
        # the orders' update leaves as it is.
        report.anonymised["orders.Order"], report.anonymised["orders.Payment"] = write_together(
            (
                with_personal,
                {
                    **dict.fromkeys(ORDER_FIELDS, ""),
                    "use_suspended": True,
                    "hold_until": TaxHoldUntil(
                        TruncDate("placed_at", tzinfo=timezone.get_default_timezone())
                    ),
                },
            ),
            (payments, {"card_last4": ""}),
        )
    # The hold of the latest order is the latest of the holds (the hold grows with the date).
    kept = orders.aggregate(count=Count("pk"), last=Max("placed_at"))
    if kept["count"]:
        report.kept["orders.Order"] = (
            kept["count"],
            gettext_noop(
                "Order numbers, amounts and dates are tax records the law requires us to keep "
                "(Corporation Tax Act: 7 years from the tax return of their business year); "
                "their personal fields are removed and their use is suspended."
            ),
            tax_hold_until(kept["last"]),
        )
    return report


register(
    "orders",
    exporter=export,
    eraser=erase,
    erase_many=erase_many,
    covers={"orders.Order": ORDER_FIELDS, "orders.Payment": PAYMENT_FIELDS},
    sections=(ORDERS,),
    # The snapshots go before the customer row they point to.
    runs_before=("customers",),
)
