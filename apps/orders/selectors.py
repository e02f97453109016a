from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from apps.customers.models import Customer
from apps.orders.models import Order


def order_list_for(*, customer: Customer) -> QuerySet[Order]:
    return Order.objects.filter(customer=customer).order_by("-placed_at")


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
