"""Writes on mail-magazine subscriptions (double opt-in, confirmation, unsubscribe, import)
and on the suppression list. Each is one transaction."""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents import services as consent_services
from apps.consents.models import ConsentState, Source
from apps.consents.selectors import customers_who_may
from apps.core.durable import durable_enqueue
from apps.core.events import SUBSCRIPTION_CHANGED, event_publish
from apps.core.locks import person_lock
from apps.core.mail import send_mail
from apps.customers.models import Customer, User
from apps.customers.selectors import customer_for_email
from apps.marketing import selectors
from apps.marketing.models import (
    MailMagazine,
    Subscription,
    SuppressedAddress,
    SuppressionLift,
)
from apps.marketing.selectors import address_hash, is_suppressed

logger = logging.getLogger(__name__)


CONFIRM_TOKEN_HOURS = 72
_CONFIRM_SALT = "marketing.subscription-confirm"


def _token_hash(token: str) -> str:
    # Ours are ASCII (token_urlsafe); anything else in a URL hashes to a match for nothing.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def subscription_wording(magazine: MailMagazine) -> str:
    return f"{magazine.name}: {magazine.purpose.description}"


# ------------------------------------------------------------------ suppression


def suppression_add(
    *, reason: str, address: str = "", hashed: str = "", magazine: MailMagazine | None = None
) -> bool:
    """Add an address (or its hash) to the suppression list; True if it was not there yet."""
    hashed = hashed or address_hash(address)
    try:
        with transaction.atomic():
            SuppressedAddress.objects.create(address_hash=hashed, magazine=magazine, reason=reason)
    except IntegrityError:
        return False
    return True


# ------------------------------------------------------------------ subscriptions


def only_erased(address: str) -> bool:
    """Suppressed for every magazine only because the person's data was erased at their
    request: they may subscribe again, by double opt-in (a bounce or complaint stays)."""
    return selectors.suppression_reasons(address=address) == {SuppressedAddress.Reason.ERASED}


def _lift_erasure(subscription: Subscription, *, event) -> None:
    """The person confirmed by the link mailed to this address: the erasure suppression goes,
    and its lifting is kept as evidence (which confirmation, when)."""
    erased = SuppressedAddress.objects.filter(
        address_hash=subscription.email_hash,
        magazine__isnull=True,
        reason=SuppressedAddress.Reason.ERASED,
    ).first()
    if erased is None:
        return
    SuppressionLift.objects.create(
        address_hash=erased.address_hash,
        reason=erased.reason,
        suppressed_at=erased.created_at,
        magazine=subscription.magazine,
        consent_event=event,
    )
    erased.delete()
    logger.info(
        "erasure suppression lifted on a confirmed re-subscription subscription_id=%s",
        subscription.pk,
    )


def _activate(
    subscription: Subscription,
    *,
    source: str,
    ip_address: str | None = None,
    user_agent: str = "",
    confirmed_by_link: bool = False,
) -> Subscription:
    magazine = subscription.magazine
    # The consents service decides whether this is news: a consent already in force (or given
    # and waiting for the address to be confirmed) gets no second event.
    event = consent_services.consent_set(
        purpose=magazine.purpose,
        granted=True,
        source=source,
        customer=subscription.customer,
        evidence=consent_services.Evidence(
            wording=subscription_wording(magazine), ip_address=ip_address, user_agent=user_agent
        ),
    )
    # An explicit new opt-in lifts an earlier unsubscribe from this magazine (not a bounce,
    # a complaint or an erasure, which block every magazine).
    SuppressedAddress.objects.filter(
        address_hash=subscription.email_hash,
        magazine=magazine,
        reason=SuppressedAddress.Reason.UNSUBSCRIBED,
    ).delete()
    if confirmed_by_link:
        if event is None:  # already in force: the state's last event is the one that counts
            event = (
                ConsentState.objects.select_related("last_event")
                .get(customer=subscription.customer, purpose=magazine.purpose)
                .last_event
            )
        _lift_erasure(subscription, event=event)
    subscription.status = Subscription.Status.ACTIVE
    subscription.confirmed_at = timezone.now()
    subscription.confirm_token_hash = ""
    subscription.unsubscribed_at = None
    subscription.save()
    _publish_change(subscription, source=source)
    return subscription


def _publish_change(subscription: Subscription, *, source: str) -> None:
    """Systems holding a copy (the storefront, the mail provider) hear of a subscription that
    starts or stops, in this transaction (apps/core/events.py)."""
    event_publish(
        SUBSCRIPTION_CHANGED,
        customer_id=subscription.customer_id,
        data={
            "subscription_id": subscription.pk,
            "magazine": subscription.magazine.slug,
            "purpose": subscription.magazine.purpose.code,
            "status": subscription.status,
            "source": source,
        },
    )


@transaction.atomic
def subscription_subscribe_member(
    *, customer: Customer, magazine: MailMagazine, ip_address=None, user_agent=""
) -> Subscription:
    """A logged-in member subscribing (My Page, or a box ticked at signup). Once the member has
    confirmed their login address no further mail is needed; until then the subscription and
    its consent stay pending, and ``subscription_activate_confirmed`` starts them when the
    address is confirmed (the member does nothing more)."""
    if not customer.email:
        raise ValidationError(_("Add an e-mail address to your profile first."))
    erased_before = only_erased(customer.email)
    if not erased_before and is_suppressed(address=customer.email):
        raise ValidationError(
            _("We cannot send mail to this address (it bounced or was reported). Contact us.")
        )
    person_lock(customer_id=customer.pk)
    subscription, _created = Subscription.objects.get_or_create(
        magazine=magazine,
        customer=customer,
        defaults={
            "status": Subscription.Status.PENDING,
            "email_hash": address_hash(customer.email),
        },
    )
    subscription.email_hash = address_hash(customer.email)
    if erased_before:
        # This address was erased at the person's request: only a fresh consent confirmed by
        # the link mailed to it starts mail again (and lifts the suppression, with evidence).
        return _send_confirmation(subscription, address=customer.email)
    if _address_unconfirmed(customer):
        if subscription.status == Subscription.Status.ACTIVE:
            return subscription
        # Recorded as given (the ledger says "pending"), in force from the confirmation.
        consent_services.consent_set(
            purpose=magazine.purpose,
            granted=True,
            source=Source.MYPAGE,
            customer=customer,
            evidence=consent_services.Evidence(
                wording=subscription_wording(magazine), ip_address=ip_address, user_agent=user_agent
            ),
        )
        subscription.status = Subscription.Status.PENDING
        # No token: this one waits for the login confirmation, not a mail of its own.
        subscription.confirm_token_hash = ""
        subscription.unsubscribed_at = None
        subscription.save()
        return subscription
    return _activate(
        subscription, source=Source.MYPAGE, ip_address=ip_address, user_agent=user_agent
    )


def _address_unconfirmed(customer: Customer) -> bool:
    return bool(
        customer.user_id
        and User.objects.filter(pk=customer.user_id, email_confirmed_at__isnull=True).exists()
    )


@transaction.atomic
def subscription_activate_confirmed(*, customer: Customer) -> int:
    """The member confirmed their login address: the subscriptions they asked for while it was
    unconfirmed start now, if their consent is in force. Subscriptions asked for through the
    public form (which carry their own token) still need their own confirmation."""
    customer = person_lock(customer_id=customer.pk).customer
    if not customer.email or _address_unconfirmed(customer):
        return 0
    granted = ConsentState.objects.filter(
        customer=customer, status=ConsentState.Status.GRANTED
    ).values("purpose_id")
    waiting = list(
        Subscription.objects.select_for_update(of=("self",))
        .select_related("magazine__purpose")
        .filter(
            customer=customer,
            status=Subscription.Status.PENDING,
            confirm_token_hash="",
            magazine__purpose_id__in=granted,
        )
        .order_by("pk")
    )
    for subscription in waiting:
        subscription.customer = customer
        subscription.email_hash = address_hash(customer.email)
        _activate(subscription, source=Source.EMAIL_CONFIRMATION)
    logger.info(
        "subscriptions started on confirmation customer_id=%s count=%s", customer.pk, len(waiting)
    )
    return len(waiting)


@transaction.atomic
def subscription_request(
    *, email: str, magazine: MailMagazine, ip_address=None, user_agent=""
) -> Subscription | None:
    """A visitor asks to subscribe: a pending subscription and a confirmation mail (double
    opt-in). Suppressed addresses get nothing, and the answer looks the same either way."""
    email = User.objects.normalize_email(email).strip().lower()
    if is_suppressed(address=email) and not only_erased(email):
        logger.info("subscription request for a suppressed address ignored")
        return None
    customer = customer_for_email(email=email)
    if customer is None:
        customer = Customer(email=email, acquired_via=Customer.AcquiredVia.SUBSCRIPTION)
        customer.full_clean()
        customer.save()
    elif person_lock(customer_id=customer.pk).customer.status == Customer.Status.ERASED:
        return None  # erased while we looked: their address is suppressed now
    subscription, _created = Subscription.objects.get_or_create(
        magazine=magazine,
        customer=customer,
        defaults={"status": Subscription.Status.PENDING, "email_hash": address_hash(email)},
    )
    if subscription.status == Subscription.Status.ACTIVE:
        return subscription
    return _send_confirmation(subscription, address=email)


def subscription_confirm_token(subscription: Subscription) -> str:
    """The confirmation link's token, derived from the row: a signature (SECRET_KEY) over the
    subscription's id and the moment this link was issued, the per-issue nonce. Only its hash is
    stored, so the row holds no usable token, and the job that mails the link carries the id
    alone (no token in the broker). A new link (new moment) makes the old one stop working."""
    nonce = int(subscription.confirm_sent_at.timestamp() * 1_000_000)
    return signing.Signer(salt=_CONFIRM_SALT).sign(f"{subscription.pk}.{nonce}")


def _send_confirmation(
    subscription: Subscription,
    *,
    address: str,
    kind: str = Subscription.ConfirmKind.REQUEST,
) -> Subscription:
    from apps.marketing.tasks import subscription_confirmation_task

    subscription.confirm_kind = kind
    subscription.status = Subscription.Status.PENDING
    subscription.email_hash = address_hash(address)
    subscription.confirm_sent_at = timezone.now()
    subscription.confirm_token_hash = _token_hash(subscription_confirm_token(subscription))
    subscription.save()
    durable_enqueue(subscription_confirmation_task, subscription.pk)
    return subscription


@transaction.atomic
def subscription_reconfirm(*, customer: Customer, magazine: MailMagazine) -> Subscription:
    """After an e-mail change: confirm the new address before mail goes to it."""
    locks = person_lock(
        customer_id=customer.pk, subscriptions=Subscription.objects.filter(magazine=magazine)
    )
    if not locks.subscriptions:
        raise Subscription.DoesNotExist
    (subscription,) = locks.subscriptions
    return _send_confirmation(subscription, address=customer.email)


def subscription_confirmation_send(*, subscription_id: int) -> bool:
    """Mail the confirmation link, if it is still the one that counts. False when there is
    nothing to send (confirmed, unsubscribed, or a newer link was issued)."""
    subscription = (
        Subscription.objects.select_related("magazine", "customer")
        .filter(pk=subscription_id, status=Subscription.Status.PENDING)
        .exclude(confirm_sent_at=None)
        .first()
    )
    if subscription is None:
        return False
    token = subscription_confirm_token(subscription)
    if subscription.confirm_token_hash != _token_hash(token):
        return False
    confirm_url = settings.SITE_URL.rstrip("/") + reverse("marketing:confirm", args=[token])
    context = {
        "magazine": subscription.magazine,
        "confirm_url": confirm_url,
        "settings": settings,
        "imported": subscription.confirm_kind == Subscription.ConfirmKind.IMPORT,
    }
    send_mail(
        subject=render_to_string("marketing/email/confirm_subject.txt", context).strip(),
        message=render_to_string("marketing/email/confirm.txt", context),
        from_email=subscription.magazine.from_email,
        to=subscription.customer.email,
    )
    logger.info("subscription confirmation sent subscription_id=%s", subscription.pk)
    return True


def _lock_for_person(subscriptions) -> Subscription | None:
    """The one subscription `subscriptions` selects, locked after its person (core/locks: the
    order an erasure locks them in too), or None when there is none (any more)."""
    customer_id = subscriptions.values_list("customer_id", flat=True).first()
    if customer_id is None:
        return None
    # Only the subscription and the customer rows are locked: locking the joined magazine and
    # purpose rows too would serialise every unsubscribe (and erasure) of its readers on one row.
    locks = person_lock(
        customer_id=customer_id,
        subscriptions=subscriptions.select_related("magazine__purpose", "customer"),
    )
    return locks.subscriptions[0] if locks.subscriptions else None


@transaction.atomic
def subscription_confirm(*, token: str, ip_address=None, user_agent="") -> Subscription:
    waiting = Subscription.objects.filter(
        confirm_token_hash=_token_hash(token or ""), status=Subscription.Status.PENDING
    )
    subscription = _lock_for_person(waiting)
    if subscription is None:
        raise ValidationError(_("This confirmation link is not valid (or was already used)."))
    age = timezone.now() - (subscription.confirm_sent_at or timezone.now())
    if age > datetime.timedelta(hours=CONFIRM_TOKEN_HOURS):
        raise ValidationError(_("This confirmation link has expired. Please subscribe again."))
    if subscription.email_hash != address_hash(subscription.customer.email):
        raise ValidationError(_("The address changed since this link was sent."))
    return _activate(
        subscription,
        source=Source.SUBSCRIBE_FORM,
        ip_address=ip_address,
        user_agent=user_agent,
        confirmed_by_link=True,
    )


@transaction.atomic
def subscription_unsubscribe(
    *,
    subscription: Subscription,
    source: str = Source.UNSUBSCRIBE,
    ip_address=None,
    user_agent="",
    actor: User | None = None,
) -> bool:
    """Stop the magazine for this person at once. Idempotent: False when already done.

    Writes the withdrawal to the consent ledger (unless another active subscription still
    relies on the same purpose) and suppresses the address for this magazine, so a campaign in
    flight skips them at its next chunk."""
    subscription = _lock_for_person(Subscription.objects.filter(pk=subscription.pk))
    if subscription is None or subscription.status == Subscription.Status.UNSUBSCRIBED:
        return False
    magazine = subscription.magazine
    subscription.status = Subscription.Status.UNSUBSCRIBED
    subscription.unsubscribed_at = timezone.now()
    subscription.confirm_token_hash = ""
    subscription.save()
    suppression_add(
        reason=SuppressedAddress.Reason.UNSUBSCRIBED,
        hashed=subscription.email_hash,
        magazine=magazine,
    )
    _publish_change(subscription, source=source)
    still_used = Subscription.objects.filter(
        customer=subscription.customer,
        magazine__purpose=magazine.purpose,
        status=Subscription.Status.ACTIVE,
    ).exists()
    if not still_used:
        consent_services.consent_set(
            purpose=magazine.purpose,
            granted=False,
            source=source,
            customer=subscription.customer,
            evidence=consent_services.Evidence(
                wording=subscription_wording(magazine),
                ip_address=ip_address,
                user_agent=user_agent,
                actor=actor,
            ),
        )
    logger.info("unsubscribed subscription_id=%s source=%s", subscription.pk, source)
    return True


@transaction.atomic
def subscription_import(*, magazine: MailMagazine, customers: list[Customer]) -> dict[str, int]:
    """Import existing opted-in customers as pending subscriptions (each gets a confirmation
    mail saying where their consent comes from); suppressed addresses and people without a
    consent in force for the magazine's purpose get nothing (a mail asking for consent is itself
    advertising mail under the Specified E-mail Act)."""
    result = {"requested": 0, "suppressed": 0, "no_address": 0, "no_consent": 0}
    consented = set(
        customers_who_may(purpose=magazine.purpose)
        .filter(pk__in=[c.pk for c in customers])
        .values_list("pk", flat=True)
    )
    for customer in customers:
        if not customer.email:
            result["no_address"] += 1
        elif customer.pk not in consented:
            result["no_consent"] += 1
        elif is_suppressed(address=customer.email, magazine=magazine):
            result["suppressed"] += 1
        else:
            subscription, _created = Subscription.objects.get_or_create(
                magazine=magazine,
                customer=customer,
                defaults={
                    "status": Subscription.Status.PENDING,
                    "email_hash": address_hash(customer.email),
                },
            )
            if subscription.status != Subscription.Status.ACTIVE:
                _send_confirmation(
                    subscription, address=customer.email, kind=Subscription.ConfirmKind.IMPORT
                )
                result["requested"] += 1
    return result
