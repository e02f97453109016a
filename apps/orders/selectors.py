from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from apps.core.compiled import CompiledQuery
from apps.customers.models import Customer
from apps.orders.models import Order

RECENT = 3
_RECENT_ORDERS = CompiledQuery(
    lambda customer_id: Order.objects.filter(customer_id=customer_id).order_by("-placed_at")[
        :RECENT
    ],
    customer_id=int,
)


def order_list_for(*, customer: Customer) -> QuerySet[Order]:
    return Order.objects.filter(customer=customer).order_by("-placed_at")


def order_recent_for(*, customer: Customer) -> list[Order]:
    """The member's latest orders, for My Page's box (compiled once: every visit reads it)."""
    return _RECENT_ORDERS(customer_id=customer.pk)


def order_get_for(*, customer: Customer, number: str) -> Order | None:
    return (
        Order.objects.filter(customer=customer, number=number)
        .select_related("payment")
        .prefetch_related("lines")
        .first()
    )


def order_field_label(*, name: str) -> str:
    """An order field as people read it (its verbose name), for a correction's notice."""
    try:
        return str(Order._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
