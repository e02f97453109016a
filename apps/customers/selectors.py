import re
from collections.abc import Collection

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower, Replace

from apps.core.compiled import CompiledQuery
from apps.customers.models import Address, Customer, EmailConfirmation, User
from apps.customers.validators import normalize_kana, normalize_phone


def customer_for_user(*, user: User) -> Customer | None:
    if not user.is_authenticated:
        return None
    profile = User.customer.related
    if profile.is_cached(user):  # loaded with the login (apps/customers/backends.py)
        customer = profile.get_cached_value(user)
        if customer is None or customer.status == Customer.Status.ERASED:
            return None
        return customer
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
        customer = customer_for_user(user=request.user)
        if customer is not None:
            # The login is already loaded: My Page reads it through the profile (no 2nd query).
            customer.user = request.user
        request._member_customer = customer
    return request._member_customer


def address_list(*, customer: Customer) -> QuerySet[Address]:
    return Address.objects.filter(customer=customer).order_by("-is_default", "pk")


def address_get(*, customer: Customer, pk: int) -> Address | None:
    return Address.objects.filter(customer=customer, pk=pk).first()


# My Page reads these on every visit: compiled once (apps/core/compiled.py).
_DEFAULT_ADDRESS = CompiledQuery(
    lambda customer_id: Address.objects.filter(customer_id=customer_id, is_default=True).order_by(
        "pk"
    )[:1],
    customer_id=int,
)
_LATEST_CONFIRMATION = CompiledQuery(
    lambda user_id: EmailConfirmation.objects.filter(user_id=user_id).order_by("-pk")[:1],
    user_id=int,
)


def address_default(*, customer: Customer) -> Address | None:
    return _DEFAULT_ADDRESS.first(customer_id=customer.pk)


def login_email_state(*, customer: Customer) -> dict:
    """For My Page: is the login address confirmed, and is a change waiting for its link?
    (The pending address is shown to the member only, who typed it.)"""
    user = customer.user
    if user is None:
        return {"confirmed": False, "pending_email": ""}
    latest = _LATEST_CONFIRMATION.first(user_id=user.pk)
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


SEARCH_NAME_FIELDS = ("family_name", "given_name")
SEARCH_KANA_FIELDS = ("family_name_kana", "given_name_kana")


def customers_matching(
    *, term: str, fields: Collection[str], queryset: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """The staff's customer search, each branch served by an index (customers migration 0005)
    rather than a scan of a million rows: an e-mail address exactly (any case); a phone number
    exactly on its digits (hyphens and full-width digits as typed or not); otherwise every word
    as the start of a name or reading (hiragana finds katakana). `fields`: the fields this
    member of staff may search (the admin hides personal fields from some roles)."""
    queryset = Customer.objects.all() if queryset is None else queryset
    term = term.strip()
    if not term:
        return queryset
    if "@" in term:
        if "email" not in fields:
            return queryset.none()
        return queryset.alias(email_ci=Lower("email")).filter(email_ci=term.lower())
    digits = normalize_phone(term).replace("-", "")
    if re.fullmatch(r"\+?\d{6,15}", digits):
        if "phone" not in fields:
            return queryset.none()
        return queryset.alias(phone_digits=Replace("phone", Value("-"), Value(""))).filter(
            phone_digits=digits
        )
    names = [f for f in SEARCH_NAME_FIELDS if f in fields]
    readings = [f for f in SEARCH_KANA_FIELDS if f in fields]
    if not names and not readings:
        return queryset.none()
    for word in term.split():
        match = Q()
        for field in names:
            match |= Q(**{f"{field}__istartswith": word})
        for field in readings:
            match |= Q(**{f"{field}__istartswith": normalize_kana(word)})
        queryset = queryset.filter(match)
    return queryset


def customers_find(*, term: str, limit: int = 20) -> list[Customer]:
    """The people staff look for when a letter or a call comes in (the request admin's person
    search): the admin's indexed search over every field (a name or reading by the start of
    each word, a phone number on its digits, an e-mail address exactly). Erased customers are
    never found."""
    if not term.split():
        return []
    fields = (*SEARCH_NAME_FIELDS, *SEARCH_KANA_FIELDS, "email", "phone")
    found = customers_matching(term=term, fields=fields, queryset=customers_not_erased())
    return list(found.order_by("pk")[:limit])
