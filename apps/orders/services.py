"""Placing orders. A restricted (or erased) customer cannot order: the rule lives here, so the
shop front, the admin and imports all obey it."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.locks import person_lock
from apps.customers.models import Address, Customer
from apps.orders.models import Order, OrderLine, Payment, Product
from apps.orders.validators import contains_card_number

logger = logging.getLogger(__name__)

# Unambiguous characters only (no 0/O, 1/I): numbers are read out over the phone.
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
FREE_SHIPPING_FROM = 5000
SHIPPING_FEE = 600


@dataclass(frozen=True)
class LineItem:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class PaymentInput:
    method: str
    card_brand: str = ""
    card_last4: str = ""
    reference: str = ""


class OrderRefused(ValidationError):
    pass


def _new_number() -> str:
    suffix = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))
    return f"{timezone.localdate():%y%m%d}-{suffix}"


def _check_payment(payment: PaymentInput) -> None:
    for field in ("card_brand", "card_last4", "reference", "method"):
        if contains_card_number(getattr(payment, field)):
            raise ValidationError(
                {
                    field: _(
                        "This looks like a full card number. We never store card numbers: "
                        "enter only the brand and the last four digits."
                    )
                }
            )


@transaction.atomic
def order_place(
    *,
    customer: Customer,
    items: list[LineItem],
    ship_to: Address,
    payment: PaymentInput,
) -> Order:
    _check_payment(payment)
    customer = person_lock(customer_id=customer.pk).customer
    if customer.status != Customer.Status.ACTIVE:
        raise OrderRefused(_("This customer cannot place orders (account restricted)."))
    if ship_to.customer_id != customer.pk:
        raise ValidationError(_("The shipping address does not belong to this customer."))
    if not items or any(item.quantity < 1 for item in items):
        raise ValidationError(
            _("An order needs at least one product with a quantity of 1 or more.")
        )
    products = Product.objects.in_bulk([item.product_id for item in items])
    if len(products) != len({item.product_id for item in items}) or not all(
        p.is_active for p in products.values()
    ):
        raise ValidationError(_("A product in this order is not on sale."))

    subtotal = sum(products[item.product_id].price * item.quantity for item in items)
    shipping_fee = 0 if subtotal >= FREE_SHIPPING_FROM else SHIPPING_FEE
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    number=_new_number(),
                    customer=customer,
                    subtotal=subtotal,
                    shipping_fee=shipping_fee,
                    total=subtotal + shipping_fee,
                    ship_name=ship_to.recipient_name,
                    ship_postal_code=ship_to.postal_code,
                    ship_address=ship_to.one_line,
                    ship_phone=ship_to.phone,
                    placed_at=timezone.now(),
                )
            break
        except IntegrityError:  # pragma: no cover - a 1 in 10^9 number collision
            continue
    else:  # pragma: no cover
        raise RuntimeError("could not allocate an order number")
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products[item.product_id],
            product_name=products[item.product_id].name,
            unit_price=products[item.product_id].price,
            quantity=item.quantity,
        )
        for item in items
    )
    pay = Payment(
        order=order,
        method=payment.method,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        reference=payment.reference,
        amount=order.total,
        status=Payment.Status.CAPTURED
        if payment.method == Payment.Method.CARD
        else Payment.Status.PENDING,
    )
    if payment.method == Payment.Method.CARD and not payment.card_last4:
        raise ValidationError({"card_last4": _("Enter the last four digits of the card.")})
    pay.full_clean(exclude=["order"])
    pay.save()
    logger.info("order placed order_id=%s customer_id=%s", order.pk, customer.pk)
    return order


# What a correction request (APPI Art. 34, GDPR Art. 16) may change on an order: the snapshot of
# where it was shipped, which holds the person's name, address and phone.
ORDER_SHIP_FIELDS = ("ship_name", "ship_postal_code", "ship_address", "ship_phone")


@transaction.atomic
def order_ship_correct(
    *, customer: Customer, number: str, changes: dict[str, object], dry_run: bool = False
) -> dict[str, list[str]]:
    """Apply a correction request's changes to the shipping snapshot of ``customer``'s order
    ``number``, validated as the model is; ``dry_run``: validate only (at receipt). Returns
    what changed, {field: [old, new]}. An order not theirs, one whose use is suspended (its
    person erased), a field not correctable or a bad value is a ValidationError."""
    unknown = set(changes) - set(ORDER_SHIP_FIELDS)
    if unknown:
        raise ValidationError(
            _("These order fields cannot be changed here: %s") % ", ".join(sorted(unknown))
        )
    orders = Order.objects.filter(customer=customer, number=number, use_suspended=False)
    if not dry_run:
        person_lock(customer_id=customer.pk)
        orders = orders.select_for_update()
    order = orders.first()
    if order is None:
        raise ValidationError(_("This person has no order %s.") % number[:20])
    before = {name: getattr(order, name) for name in changes}
    for name, value in changes.items():
        setattr(order, name, "" if value is None else str(value).strip())
    order.clean_fields(exclude=[f.name for f in Order._meta.fields if f.name not in changes])
    applied = {
        name: [old, getattr(order, name)]
        for name, old in before.items()
        if old != getattr(order, name)
    }
    if applied and not dry_run:
        order.save(update_fields=list(applied))
        logger.info("order shipping snapshot corrected order_id=%s", order.pk)
    return applied
