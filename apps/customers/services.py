"""Writes on customers, their logins, addresses and inquiries. Each is one transaction."""

from __future__ import annotations

import datetime
import logging
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.locks import person_lock
from apps.customers.models import Address, Customer, Inquiry, User

logger = logging.getLogger(__name__)

PROFILE_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "date_of_birth",
    "phone",
)


@contextmanager
def _email_unique():
    """Two sign-ups (or e-mail changes) racing for one address: the database's unique index
    decides, and the loser gets the form's message instead of an IntegrityError whose detail
    (logged with its traceback) would hold the address."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise ValidationError(
            {"email": _("An account with this e-mail address already exists.")}
        ) from None


def _email_taken(email: str, *, exclude_user_id: int | None = None) -> bool:
    users = User.objects.filter(email__iexact=email)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


@transaction.atomic
def member_signup(
    *,
    email: str,
    password: str,
    family_name: str,
    given_name: str,
    family_name_kana: str = "",
    given_name_kana: str = "",
    phone: str = "",
    date_of_birth: datetime.date | None = None,
) -> Customer:
    """Create a login and its customer profile together, or neither."""
    email = User.objects.normalize_email(email).lower()
    if _email_taken(email):
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    with _email_unique():
        user = User.objects.create_user(email=email, password=password)
    customer = Customer(
        user=user,
        email=email,
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        phone=phone,
        date_of_birth=date_of_birth,
        acquired_via=Customer.AcquiredVia.SIGNUP,
    )
    customer.full_clean()
    customer.save()
    logger.info("member signed up customer_id=%s", customer.pk)
    return customer


@transaction.atomic
def customer_update_profile(*, customer: Customer, email: str | None = None, **changes) -> Customer:
    """Apply profile changes through model validation; a changed e-mail moves the login too.

    Returns the customer; raises ValidationError (and writes nothing) on any invalid field.
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    customer = person_lock(customer_id=customer.pk).customer
    if customer.status == Customer.Status.ERASED:
        raise ValidationError(_("This customer's data has been erased."))
    for name, value in changes.items():
        setattr(customer, name, value)
    update_fields = [*changes, "updated_at"]
    if email is not None:
        email = User.objects.normalize_email(email).lower()
        if customer.user_id and _email_taken(email, exclude_user_id=customer.user_id):
            raise ValidationError(
                {"email": _("An account with this e-mail address already exists.")}
            )
        customer.email = email
        update_fields.append("email")
    customer.full_clean(exclude=["user"])
    customer.save(update_fields=update_fields)
    if email is not None and customer.user_id:
        with _email_unique():
            User.objects.filter(pk=customer.user_id).update(email=email)
    logger.info("profile updated customer_id=%s fields=%s", customer.pk, sorted(update_fields))
    return customer


@transaction.atomic
def customer_restrict(*, customer: Customer, reason: str, by: User | None = None) -> Customer:
    """Restrict a customer for a terms violation (e.g. resale); they can no longer order."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"restriction_reason": _("Give the reason for the restriction.")})
    customer = person_lock(customer_id=customer.pk).customer
    if customer.status == Customer.Status.ERASED:
        raise ValidationError(_("An erased customer cannot be restricted."))
    customer.status = Customer.Status.RESTRICTED
    customer.restriction_reason = reason
    customer.restricted_at = timezone.now()
    customer.save(update_fields=["status", "restriction_reason", "restricted_at", "updated_at"])
    logger.info("customer restricted customer_id=%s by_user_id=%s", customer.pk, by and by.pk)
    return customer


@transaction.atomic
def customer_lift_restriction(*, customer: Customer, by: User | None = None) -> Customer:
    customer = person_lock(customer_id=customer.pk).customer
    if customer.status != Customer.Status.RESTRICTED:
        raise ValidationError(_("This customer is not restricted."))
    customer.status = Customer.Status.ACTIVE
    customer.restriction_reason = ""
    customer.restricted_at = None
    customer.save(update_fields=["status", "restriction_reason", "restricted_at", "updated_at"])
    logger.info("restriction lifted customer_id=%s by_user_id=%s", customer.pk, by and by.pk)
    return customer


# ------------------------------------------------------------------ addresses

ADDRESS_FIELDS = (
    "label",
    "recipient_name",
    "country",
    "postal_code",
    "prefecture",
    "city",
    "line1",
    "line2",
    "phone",
)


def _lock_addresses(customer: Customer) -> list[Address]:
    # Lock the customer first, then their addresses, always in that order.
    person_lock(customer_id=customer.pk)
    return list(Address.objects.select_for_update().filter(customer=customer).order_by("pk"))


@transaction.atomic
def address_create(*, customer: Customer, make_default: bool = False, **fields) -> Address:
    existing = _lock_addresses(customer)
    address = Address(customer=customer, **{k: fields.get(k, "") for k in ADDRESS_FIELDS})
    address.full_clean(exclude=["is_default"])
    # The first address is the default one.
    make_default = make_default or not existing
    if make_default:
        Address.objects.filter(customer=customer, is_default=True).update(is_default=False)
    address.is_default = make_default
    address.save()
    return address


@transaction.atomic
def address_update(*, address: Address, make_default: bool = False, **fields) -> Address:
    _lock_addresses(address.customer)
    address = Address.objects.get(pk=address.pk)
    for name in ADDRESS_FIELDS:
        if name in fields:
            setattr(address, name, fields[name])
    address.full_clean(exclude=["is_default"])
    if make_default and not address.is_default:
        Address.objects.filter(customer_id=address.customer_id, is_default=True).update(
            is_default=False
        )
        address.is_default = True
    address.save()
    return address


@transaction.atomic
def address_set_default(*, address: Address) -> Address:
    _lock_addresses(address.customer)
    Address.objects.filter(customer_id=address.customer_id, is_default=True).exclude(
        pk=address.pk
    ).update(is_default=False)
    Address.objects.filter(pk=address.pk).update(is_default=True)
    address.refresh_from_db()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Delete an address; if it was the default, the oldest remaining one becomes default."""
    remaining = [a for a in _lock_addresses(address.customer) if a.pk != address.pk]
    was_default = Address.objects.filter(pk=address.pk, is_default=True).exists()
    Address.objects.filter(pk=address.pk).delete()
    if was_default and remaining:
        Address.objects.filter(pk=remaining[0].pk).update(is_default=True)


# ------------------------------------------------------------------ inquiries


@transaction.atomic
def inquiry_create(
    *,
    name: str,
    email: str,
    topic: str,
    message: str,
    phone: str = "",
    customer: Customer | None = None,
) -> Inquiry:
    from apps.customers.tasks import inquiry_acknowledge_task

    inquiry = Inquiry(
        name=name,
        email=User.objects.normalize_email(email),
        phone=phone,
        topic=topic,
        message=message,
        customer=customer,
    )
    inquiry.full_clean()
    inquiry.save()
    inquiry_acknowledge_task.delay_on_commit(inquiry.pk)
    logger.info("inquiry received inquiry_id=%s topic=%s", inquiry.pk, topic)
    return inquiry


def inquiry_acknowledge(*, inquiry_id: int) -> bool:
    """Mail the inquirer a receipt, once. Returns False when it was already sent."""
    from django.conf import settings
    from django.template.loader import render_to_string

    from apps.core.mail import send_mail

    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().filter(pk=inquiry_id).first()
        if inquiry is None or inquiry.acknowledged_at is not None or not inquiry.email:
            return False  # gone, answered already, or its sender's data was erased
        context = {"inquiry": inquiry, "settings": settings}
        send_mail(
            subject=render_to_string("customers/email/inquiry_ack_subject.txt", context).strip(),
            message=render_to_string("customers/email/inquiry_ack.txt", context),
            from_email=None,
            to=inquiry.email,
        )
        inquiry.acknowledged_at = timezone.now()
        inquiry.save(update_fields=["acknowledged_at"])
    logger.info("inquiry acknowledged inquiry_id=%s", inquiry_id)
    return True
