from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from apps.customers.models import Address, Customer, EmailConfirmation, User


def customer_for_user(*, user: User) -> Customer | None:
    if not user.is_authenticated:
        return None
    return Customer.objects.filter(user=user).exclude(status=Customer.Status.ERASED).first()


def customers_not_erased() -> QuerySet[Customer]:
    """Everyone a request or a staff form may still be linked to: an erased record is nobody."""
    return Customer.objects.exclude(status=Customer.Status.ERASED)


def customer_is_erased(*, customer: Customer) -> bool:
    return customer.status == Customer.Status.ERASED


def customer_ids_erased() -> QuerySet:
    """The ids of erased records, as a subquery for another app's filter (``customer__in=``)."""
    return Customer.objects.filter(status=Customer.Status.ERASED).values("pk")


def customer_field_label(*, name: str) -> str:
    """A profile field as people read it (its verbose name), for a correction's notice; an
    unknown name is shown as it is."""
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def address_field_label(*, name: str) -> str:
    """An address field as people read it (its verbose name), for a correction's notice."""
    try:
        return str(Address._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def customer_for_request(request) -> Customer | None:
    """The logged-in member's own profile, looked up once per request (the consent middleware
    and the My Page views both need it)."""
    if not hasattr(request, "_member_customer"):
        request._member_customer = customer_for_user(user=request.user)
    return request._member_customer


def address_list(*, customer: Customer) -> QuerySet[Address]:
    return Address.objects.filter(customer=customer).order_by("-is_default", "pk")


def address_get(*, customer: Customer, pk: int) -> Address | None:
    return Address.objects.filter(customer=customer, pk=pk).first()


def address_default(*, customer: Customer) -> Address | None:
    return Address.objects.filter(customer=customer, is_default=True).first()


def login_email_state(*, customer: Customer) -> dict:
    """For My Page: is the login address confirmed, and is a change waiting for its link?
    (The pending address is shown to the member only, who typed it.)"""
    user = customer.user
    if user is None:
        return {"confirmed": False, "pending_email": ""}
    latest = EmailConfirmation.objects.filter(user=user).order_by("-pk").first()
    pending = (
        latest.email
        if latest is not None and latest.confirmed_at is None and latest.email != user.email
        else ""
    )
    return {"confirmed": user.email_confirmed_at is not None, "pending_email": pending}


def customer_for_email(*, email: str) -> Customer | None:
    """The person a contact address belongs to: case and surrounding spaces do not matter, an
    erased record is nobody, and of two records with the address the first one known answers."""
    return (
        Customer.objects.filter(email__iexact=email.strip())
        .exclude(status=Customer.Status.ERASED)
        .order_by("pk")
        .first()
    )


def customer_get(*, pk: int) -> Customer | None:
    """A person by our id, for apps that are given ids only (an erased record is nobody)."""
    return Customer.objects.exclude(status=Customer.Status.ERASED).filter(pk=pk).first()
