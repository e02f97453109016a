"""Members' accounts: sign-up, the profile, the login e-mail and its confirmation, password
reset. Each write is one transaction."""

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
from apps.core.unchanged import UNCHANGED, Unchanged, given
from apps.customers.models import Customer, EmailConfirmation, Session, User

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
            {
                "email": ValidationError(
                    _("An account with this e-mail address already exists."), code="email_taken"
                )
            }
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
        raise ValidationError(
            {
                "email": ValidationError(
                    _("An account with this e-mail address already exists."), code="email_taken"
                )
            }
        )
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
def signup_existing_account_remind(*, email: str) -> bool:
    """Someone signed up with an address that already has a login: the signup page answers as
    for a new address (it must not tell who is a member), and the address's owner gets a mail
    saying they already have an account. The job carries the login's id only."""
    from apps.customers.tasks import signup_existing_account_task

    user = User.objects.filter(email__iexact=User.objects.normalize_email(email)).first()
    if user is None:
        return False
    durable_enqueue(signup_existing_account_task, user.pk)
    logger.info("signup for an existing login user_id=%s", user.pk)
    return True


def signup_existing_account_send(*, user_id: int) -> bool:
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.urls import reverse

    from apps.core.mail import send_mail

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    site = settings.SITE_URL.rstrip("/")
    context = {
        "login_url": site + reverse("login"),
        "reset_url": site + reverse("password_reset"),
        "settings": settings,
    }
    send_mail(
        subject=render_to_string("customers/email/signup_existing_subject.txt", context).strip(),
        message=render_to_string("customers/email/signup_existing.txt", context),
        from_email=None,
        to=user.email,
    )
    logger.info("existing-account notice sent user_id=%s", user.pk)
    return True


@transaction.atomic
def customer_update_profile(
    *,
    customer: Customer,
    family_name: str | Unchanged = UNCHANGED,
    given_name: str | Unchanged = UNCHANGED,
    family_name_kana: str | Unchanged = UNCHANGED,
    given_name_kana: str | Unchanged = UNCHANGED,
    date_of_birth: datetime.date | Unchanged | None = UNCHANGED,
    phone: str | Unchanged = UNCHANGED,
    email: str | None = None,
) -> Customer:
    """Apply profile changes (the PROFILE_FIELDS given) through model validation.

    `email` is the contact address of a guest. A member's address is their login: it moves only
    through ``user_email_change_request`` and the link sent to the new address, so neither staff
    nor anything else can point a member's login (and its password reset) at another address.
    Returns the customer; raises ValidationError (and writes nothing) on any invalid field.
    """
    changes = given(
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        date_of_birth=date_of_birth,
        phone=phone,
    )
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


@transaction.atomic
def customer_correct(*, customer: Customer, changes: dict[str, object]) -> tuple[Customer, bool]:
    """Apply a correction request's changes: data stored with the request (JSON), so an unknown
    name is a ValidationError the request's timeline records, not a TypeError. A guest's
    address is corrected here; a member's is their login, so the new one gets a confirmation
    link and the login moves when it is opened. Returns the customer and whether a link was
    sent. All or nothing: any invalid value writes nothing."""
    changes = dict(changes)
    unknown = set(changes) - {*PROFILE_FIELDS, "email"}
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %s") % ", ".join(sorted(unknown))
        )
    if isinstance(changes.get("date_of_birth"), str) and changes["date_of_birth"]:
        changes["date_of_birth"] = datetime.date.fromisoformat(changes["date_of_birth"])
    email = changes.pop("email", None)
    login_email = bool(email and customer.user_id)
    moves_login = login_email and email.strip().lower() != (customer.email or "").lower()
    customer = customer_update_profile(
        customer=customer, email=None if login_email else email, **changes
    )
    if moves_login:
        user_email_change_request(
            user=customer.user, new_email=email, kind=EmailConfirmation.Kind.CORRECTION
        )
    return customer, moves_login


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
