"""Writes on customers, their logins, addresses and inquiries. Each is one transaction."""

from __future__ import annotations

import datetime
import logging
from contextlib import contextmanager

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.durable import durable_enqueue
from apps.core.locks import person_lock
from apps.core.models import StaffAction
from apps.core.services import staff_action_record
from apps.core.unchanged import UNCHANGED, Unchanged, given
from apps.customers.models import Address, Customer, EmailConfirmation, Inquiry, Session, User

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
    _email_confirmation_issue(user=user, email=email, kind=EmailConfirmation.Kind.SIGNUP)
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
    """Apply profile changes through model validation.

    `email` is the contact address of a guest. A member's address is their login: it moves only
    through ``user_email_change_request`` and the link sent to the new address, so neither staff
    nor anything else can point a member's login (and its password reset) at another address.
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
        if customer.user_id and email != (customer.email or "").lower():
            raise ValidationError({"email": _member_email_is_login()})
        if not customer.user_id:
            customer.email = email
            update_fields.append("email")
    customer.full_clean(exclude=["user"])
    customer.save(update_fields=update_fields)
    logger.info("profile updated customer_id=%s fields=%s", customer.pk, sorted(update_fields))
    return customer


def _member_email_is_login() -> str:
    return _(
        "A member's e-mail address is their login: it changes only when the member confirms "
        "the new address (from My Page, or through a correction request)."
    )


# ------------------------------------------------------------------ the login e-mail

EMAIL_CONFIRMATION_HOURS = 48
_CONFIRMATION_SALT = "customers.email-confirmation"


def email_confirmation_token(confirmation_id: int) -> str:
    """The link's token: a signature of the row id, so the row holds no secret and the task
    that mails it needs only the id (no token in the broker, nothing personal in the URL)."""
    return signing.Signer(salt=_CONFIRMATION_SALT).sign(str(confirmation_id))


def _email_confirmation_issue(
    *, user: User, email: str, kind: str, previous_email: str = ""
) -> EmailConfirmation:
    from apps.customers.tasks import email_confirmation_send_task

    confirmation = EmailConfirmation.objects.create(
        user=user, email=email, kind=kind, previous_email=previous_email
    )
    durable_enqueue(email_confirmation_send_task, confirmation.pk)
    logger.info(
        "e-mail confirmation issued user_id=%s confirmation_id=%s kind=%s",
        user.pk,
        confirmation.pk,
        kind,
    )
    return confirmation


@transaction.atomic
def user_email_change_request(
    *, user: User, new_email: str, kind: str = EmailConfirmation.Kind.CHANGE
) -> EmailConfirmation:
    """Send a link to `new_email`; the login (and the member's contact address) moves there only
    when it is clicked. The caller has checked who asks: the member's password on My Page, or
    an approved correction request. An older pending link of the login stops working."""
    user = User.objects.select_for_update().get(pk=user.pk)
    new_email = User.objects.normalize_email(new_email).strip().lower()
    if new_email == user.email.lower():
        raise ValidationError({"email": _("This is already your e-mail address.")})
    if _email_taken(new_email, exclude_user_id=user.pk):
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    return _email_confirmation_issue(
        user=user, email=new_email, kind=kind, previous_email=user.email
    )


@transaction.atomic
def user_email_confirmation_resend(*, user: User) -> EmailConfirmation:
    """A fresh link for what is still unconfirmed: a pending change, else the signup address."""
    user = User.objects.select_for_update().get(pk=user.pk)
    latest = EmailConfirmation.objects.filter(user=user).order_by("-pk").first()
    if latest is not None and latest.confirmed_at is None and latest.email != user.email:
        return _email_confirmation_issue(
            user=user, email=latest.email, kind=latest.kind, previous_email=user.email
        )
    if user.email_confirmed_at is None:
        return _email_confirmation_issue(
            user=user, email=user.email, kind=EmailConfirmation.Kind.SIGNUP
        )
    raise ValidationError(_("Your e-mail address is already confirmed."))


def _confirmation_invalid() -> ValidationError:
    return ValidationError(_("This confirmation link is not valid (or was already used)."))


@transaction.atomic
def user_email_confirm(*, token: str, keep_session_key: str | None = None) -> EmailConfirmation:
    """The link was clicked: the address is proved. For a change, the login and the contact
    address move together, every other session of the login ends (whoever held one must log in
    again with the new address) and the old address is told. Expired, tampered, used or
    superseded links raise ValidationError and change nothing."""
    try:
        confirmation_id = int(signing.Signer(salt=_CONFIRMATION_SALT).unsign(token or ""))
    except (signing.BadSignature, ValueError):
        raise _confirmation_invalid() from None
    confirmation = EmailConfirmation.objects.filter(pk=confirmation_id).first()
    if confirmation is None:
        raise _confirmation_invalid()
    # The person first (core.locks' order), then the login.
    customer_id = (
        Customer.objects.filter(user_id=confirmation.user_id).values_list("pk", flat=True).first()
    )
    customer = person_lock(customer_id=customer_id).customer if customer_id else None
    user = User.objects.select_for_update().get(pk=confirmation.user_id)
    confirmation = EmailConfirmation.objects.get(pk=confirmation.pk)
    newest = EmailConfirmation.objects.filter(user=user).order_by("-pk").first()
    if (
        confirmation.confirmed_at is not None
        or newest.pk != confirmation.pk
        or not user.is_active
        or customer is None
        or customer.status == Customer.Status.ERASED
    ):
        raise _confirmation_invalid()
    now = timezone.now()
    if now - confirmation.created_at > datetime.timedelta(hours=EMAIL_CONFIRMATION_HOURS):
        raise ValidationError(
            _("This confirmation link has expired. Ask for a new one on My Page.")
        )
    changed = confirmation.kind != EmailConfirmation.Kind.SIGNUP
    expected = confirmation.previous_email if changed else confirmation.email
    if expected.lower() != user.email.lower():
        raise ValidationError(_("The address changed since this link was sent."))
    user.email_confirmed_at = now
    if changed:
        if _email_taken(confirmation.email, exclude_user_id=user.pk):
            raise ValidationError(_("An account with this e-mail address already exists."))
        user.email = confirmation.email
        with _email_unique():
            user.save(update_fields=["email", "email_confirmed_at"])
        customer.email = confirmation.email
        customer.save(update_fields=["email", "updated_at"])
        Session.objects.filter(user_id=user.pk).exclude(session_key=keep_session_key or "").delete()
    else:
        user.save(update_fields=["email_confirmed_at"])
    confirmation.confirmed_at = now
    confirmation.save(update_fields=["confirmed_at"])
    if changed:
        from apps.customers.tasks import email_change_notice_task

        durable_enqueue(email_change_notice_task, confirmation.pk)
    logger.info(
        "login e-mail confirmed user_id=%s confirmation_id=%s kind=%s",
        user.pk,
        confirmation.pk,
        confirmation.kind,
    )
    return confirmation


def email_confirmation_send(*, confirmation_id: int) -> bool:
    """Mail the link, if it is still the one that counts. False when there is nothing to send."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.urls import reverse

    from apps.core.mail import send_mail

    confirmation = EmailConfirmation.objects.filter(pk=confirmation_id).first()
    if confirmation is None or confirmation.confirmed_at is not None:
        return False
    newest = EmailConfirmation.objects.filter(user_id=confirmation.user_id).order_by("-pk")
    if newest.values_list("pk", flat=True).first() != confirmation.pk:
        return False  # a newer link was asked for; this one no longer works
    url = settings.SITE_URL.rstrip("/") + reverse(
        "email_confirm", args=[email_confirmation_token(confirmation.pk)]
    )
    context = {
        "confirm_url": url,
        "hours": EMAIL_CONFIRMATION_HOURS,
        "change": confirmation.kind != EmailConfirmation.Kind.SIGNUP,
        "settings": settings,
    }
    send_mail(
        subject=render_to_string("customers/email/email_confirm_subject.txt", context).strip(),
        message=render_to_string("customers/email/email_confirm.txt", context),
        from_email=None,
        to=confirmation.email,
    )
    logger.info("e-mail confirmation sent confirmation_id=%s", confirmation.pk)
    return True


def email_change_notice_send(*, confirmation_id: int) -> bool:
    """Tell the old address that the login moved away from it."""
    from django.conf import settings
    from django.template.loader import render_to_string

    from apps.core.mail import send_mail

    confirmation = EmailConfirmation.objects.filter(pk=confirmation_id).first()
    if confirmation is None or confirmation.confirmed_at is None or not confirmation.previous_email:
        return False
    context = {"confirmation": confirmation, "settings": settings}
    send_mail(
        subject=render_to_string("customers/email/email_changed_subject.txt", context).strip(),
        message=render_to_string("customers/email/email_changed.txt", context),
        from_email=None,
        to=confirmation.previous_email,
    )
    logger.info("e-mail change notice sent confirmation_id=%s", confirmation.pk)
    return True


# ------------------------------------------------------------------ password reset


@transaction.atomic
def password_reset_request(*, users: list[User]) -> int:
    """Queue a reset link for each of these logins (the form found them by the typed address;
    the page answers the same whether it found any). The job carries the login's id: the link
    is made when the mail is sent, so one that waited for the mail server is fresh."""
    from apps.customers.tasks import password_reset_send_task

    for user in users:
        durable_enqueue(password_reset_send_task, user.pk)
        logger.info("password reset asked user_id=%s", user.pk)
    return len(users)


def password_reset_send(*, user_id: int) -> bool:
    """Mail a reset link (Django's token: it stops working once the password changes or after
    PASSWORD_RESET_TIMEOUT). False when the login can no longer reset its password."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.template.loader import render_to_string
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from apps.core.mail import send_mail

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return False
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email,
        "domain": site.netloc,
        "site_name": settings.SHOP_NAME or site.netloc,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": site.scheme or "https",
    }
    subject = render_to_string("account/email/password_reset_subject.txt", context)
    send_mail(
        subject="".join(subject.splitlines()),
        message=render_to_string("account/email/password_reset.txt", context),
        from_email=None,
        to=user.email,
    )
    logger.info("password reset mail sent user_id=%s", user.pk)
    return True


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
    staff_action_record(
        action=StaffAction.Action.CUSTOMER_RESTRICT, obj=customer, by_user_id=by and by.pk
    )
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
    staff_action_record(
        action=StaffAction.Action.CUSTOMER_LIFT_RESTRICTION, obj=customer, by_user_id=by and by.pk
    )
    logger.info("restriction lifted customer_id=%s by_user_id=%s", customer.pk, by and by.pk)
    return customer


# ------------------------------------------------------------------ addresses

# What a member (or staff) may write on an address; also the address form's fields.
ADDRESS_EDITABLE_FIELDS = (
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
def address_create(
    # A field left out is empty, and the model's validation says which are required.
    *,
    customer: Customer,
    label: str = "",
    recipient_name: str = "",
    country: str = "",
    postal_code: str = "",
    prefecture: str = "",
    city: str = "",
    line1: str = "",
    line2: str = "",
    phone: str = "",
    make_default: bool = False,
) -> Address:
    existing = _lock_addresses(customer)
    address = Address(
        customer=customer,
        label=label,
        recipient_name=recipient_name,
        country=country,
        postal_code=postal_code,
        prefecture=prefecture,
        city=city,
        line1=line1,
        line2=line2,
        phone=phone,
    )
    address.full_clean(exclude=["is_default"])
    # The first address is the default one.
    make_default = make_default or not existing
    if make_default:
        Address.objects.filter(customer=customer, is_default=True).update(is_default=False)
    address.is_default = make_default
    address.save()
    return address


@transaction.atomic
def address_update(
    *,
    address: Address,
    label: str | Unchanged = UNCHANGED,
    recipient_name: str | Unchanged = UNCHANGED,
    country: str | Unchanged = UNCHANGED,
    postal_code: str | Unchanged = UNCHANGED,
    prefecture: str | Unchanged = UNCHANGED,
    city: str | Unchanged = UNCHANGED,
    line1: str | Unchanged = UNCHANGED,
    line2: str | Unchanged = UNCHANGED,
    phone: str | Unchanged = UNCHANGED,
    make_default: bool = False,
) -> Address:
    _lock_addresses(address.customer)
    address = Address.objects.get(pk=address.pk)
    changes = given(
        label=label,
        recipient_name=recipient_name,
        country=country,
        postal_code=postal_code,
        prefecture=prefecture,
        city=city,
        line1=line1,
        line2=line2,
        phone=phone,
    )
    for name, value in changes.items():
        setattr(address, name, value)
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
    durable_enqueue(inquiry_acknowledge_task, inquiry.pk)
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
