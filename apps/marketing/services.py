"""Writes for mail magazines: subscriptions (double opt-in, unsubscribe), the suppression list,
and campaigns (checks, scheduling, cancelling). The sending pipeline is in pipeline.py."""

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
from apps.core.durable import durable_enqueue
from apps.core.locks import person_lock
from apps.core.mail import send_mail
from apps.core.models import StaffAction
from apps.core.services import staff_action_record
from apps.customers.models import Customer, User
from apps.customers.selectors import customer_for_email
from apps.marketing import content, mail, pipeline
from apps.marketing.models import (
    Campaign,
    Delivery,
    MailMagazine,
    Subscription,
    SuppressedAddress,
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


def _activate(
    subscription: Subscription,
    *,
    source: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Subscription:
    magazine = subscription.magazine
    # The consents service decides whether this is news: a consent already in force (or given
    # and waiting for the address to be confirmed) gets no second event.
    consent_services.consent_set(
        purpose=magazine.purpose,
        granted=True,
        source=source,
        customer=subscription.customer,
        wording=subscription_wording(magazine),
        ip_address=ip_address,
        user_agent=user_agent,
    )
    # An explicit new opt-in lifts an earlier unsubscribe from this magazine (not a bounce,
    # a complaint or an erasure, which block every magazine).
    SuppressedAddress.objects.filter(
        address_hash=subscription.email_hash,
        magazine=magazine,
        reason=SuppressedAddress.Reason.UNSUBSCRIBED,
    ).delete()
    subscription.status = Subscription.Status.ACTIVE
    subscription.confirmed_at = timezone.now()
    subscription.confirm_token_hash = ""
    subscription.unsubscribed_at = None
    subscription.save()
    return subscription


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
    if is_suppressed(address=customer.email):
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
    if _address_unconfirmed(customer):
        if subscription.status == Subscription.Status.ACTIVE:
            return subscription
        # Recorded as given (the ledger says "pending"), in force from the confirmation.
        consent_services.consent_set(
            purpose=magazine.purpose,
            granted=True,
            source=Source.MYPAGE,
            customer=customer,
            wording=subscription_wording(magazine),
            ip_address=ip_address,
            user_agent=user_agent,
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
    if is_suppressed(address=email):
        logger.info("subscription request for a suppressed address ignored")
        return None
    customer = customer_for_email(email=email)
    if customer is None:
        customer = Customer(email=email, acquired_via=Customer.AcquiredVia.INQUIRY)
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


def _send_confirmation(subscription: Subscription, *, address: str) -> Subscription:
    from apps.marketing.tasks import subscription_confirmation_task

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
    context = {"magazine": subscription.magazine, "confirm_url": confirm_url, "settings": settings}
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
    )


@transaction.atomic
def subscription_unsubscribe(
    *, subscription: Subscription, source: str = Source.UNSUBSCRIBE, ip_address=None, user_agent=""
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
            wording=subscription_wording(magazine),
            ip_address=ip_address,
            user_agent=user_agent,
        )
    logger.info("unsubscribed subscription_id=%s source=%s", subscription.pk, source)
    return True


@transaction.atomic
def subscription_import(*, magazine: MailMagazine, customers: list[Customer]) -> dict[str, int]:
    """Import existing opted-in customers as pending subscriptions (each gets a confirmation
    mail); suppressed addresses and people without consent are left out."""
    result = {"requested": 0, "suppressed": 0, "no_address": 0}
    for customer in customers:
        if not customer.email:
            result["no_address"] += 1
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
                _send_confirmation(subscription, address=customer.email)
                result["requested"] += 1
    return result


# ------------------------------------------------------------------ campaigns


def campaign_problems(campaign: Campaign) -> list[str]:
    problems = [_("Missing setting: %s") % name for name in mail.missing_sender_settings(campaign)]
    if not campaign.subject.strip():
        problems.append(_("The subject is empty."))
    if not campaign.body_text.strip():
        problems.append(_("The text body is empty."))
    # The form refuses these on saving; checked again here so no path (a shell, an import, a
    # campaign saved before the rule) sends a reader's data to a URL or unsanitised markup.
    found = content.content_problems(
        subject=campaign.subject, body_text=campaign.body_text, body_html=campaign.body_html
    )
    problems.extend(problem for field_problems in found.values() for problem in field_problems)
    return problems


def _require_sendable(campaign: Campaign) -> None:
    problems = campaign_problems(campaign)
    if problems:
        raise ValidationError([_("This campaign cannot be sent until this is fixed:"), *problems])


@transaction.atomic
def campaign_send_now(*, campaign: Campaign, by: User | None = None) -> Campaign:
    from apps.marketing.tasks import campaign_fanout_task

    campaign = Campaign.objects.select_for_update().select_related("magazine").get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        raise ValidationError(_("Only a draft or scheduled campaign can be sent."))
    _require_sendable(campaign)
    campaign.status = Campaign.Status.SENDING
    campaign.started_at = timezone.now()
    campaign.save(update_fields=["status", "started_at"])
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_SEND, obj=campaign, by_user_id=by and by.pk
    )
    # The campaign in `sending` is the record: if this enqueue fails, the sweep fans it out.
    campaign_id = campaign.pk
    transaction.on_commit(lambda: _enqueue(campaign_fanout_task, campaign_id))
    logger.info("campaign sending campaign_id=%s by_user_id=%s", campaign.pk, by and by.pk)
    return campaign


@transaction.atomic
def campaign_schedule(
    *, campaign: Campaign, at: datetime.datetime, by: User | None = None
) -> Campaign:
    campaign = Campaign.objects.select_for_update().select_related("magazine").get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        raise ValidationError(_("Only a draft campaign can be scheduled."))
    if at <= timezone.now():
        raise ValidationError(_("Choose a time in the future."))
    _require_sendable(campaign)
    campaign.status = Campaign.Status.SCHEDULED
    campaign.scheduled_at = at
    campaign.save(update_fields=["status", "scheduled_at"])
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_SCHEDULE, obj=campaign, by_user_id=by and by.pk
    )
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Stop a scheduled or sending campaign: chunks not yet sent skip their rows."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
        raise ValidationError(_("Only a scheduled or sending campaign can be cancelled."))
    campaign.status = Campaign.Status.CANCELLED
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["status", "finished_at"])
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_CANCEL, obj=campaign, by_user_id=by and by.pk
    )
    # Rows no chunk has claimed yet are settled now (a chunk in flight stops at its next
    # batch), so nothing stays pending whether or not a chunk task ever runs again.
    Delivery.objects.filter(campaign=campaign, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, skip_reason=pipeline.SKIPPED_CANCELLED
    )
    return campaign


def _enqueue(task, *ids: int) -> bool:
    """Enqueue a task now, without the broker's own retries (a request must not hang on a
    broker that is down). A failure is logged by class with the ids only and otherwise
    ignored: the rows are the record, and the next sweep enqueues again."""
    try:
        task.apply_async(ids, retry=False)
    except Exception as exc:
        if task.app.conf.task_always_eager:
            raise  # no broker: the task itself ran here and failed
        logger.warning("enqueue failed task=%s ids=%s error=%s", task.name, ids, type(exc).__name__)
        return False
    return True


def campaign_enqueue_chunks(*, campaign_id: int, ranges: list[tuple[int, int]]) -> int:
    """One chunk task per id range; how many were enqueued."""
    from apps.marketing.tasks import campaign_chunk_task

    return sum(_enqueue(campaign_chunk_task, campaign_id, lo, hi) for lo, hi in ranges)


def _campaign_drive(campaign_id: int, *, even_if_busy: bool) -> str:
    """What the sweep does for one campaign in `sending`: lost workers' rows become unknown;
    a campaign never fanned out is fanned out; due rows that no chunk is working on get chunk
    tasks; a campaign with nothing left is finalized."""
    from apps.marketing.tasks import campaign_fanout_task

    pipeline.campaign_release_stale(campaign_id=campaign_id)
    if not pipeline.campaign_has_deliveries(campaign_id=campaign_id):
        _enqueue(campaign_fanout_task, campaign_id)  # idempotent if it is running right now
        return "fanout"
    if even_if_busy or pipeline.campaign_is_idle(campaign_id=campaign_id):
        ranges = pipeline.campaign_due_ranges(campaign_id=campaign_id)
        if ranges:
            campaign_enqueue_chunks(campaign_id=campaign_id, ranges=ranges)
            return "chunks"
    return pipeline.campaign_finalize(campaign_id=campaign_id)


def campaign_sweep() -> dict[str, int]:
    """Beat, every minute: drive every campaign in `sending` (see _campaign_drive). Two sweeps
    at once are harmless: the claim (SKIP LOCKED) is what guards against sending twice."""
    done: dict[str, int] = {}
    sending = Campaign.objects.filter(status=Campaign.Status.SENDING).order_by("pk")
    for campaign_id in list(sending.values_list("pk", flat=True)):
        state = _campaign_drive(campaign_id, even_if_busy=False)
        done[state] = done.get(state, 0) + 1
    if done:
        logger.info("campaign sweep %s", " ".join(f"{k}={v}" for k, v in sorted(done.items())))
    return done


@transaction.atomic
def campaign_resume(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Staff's "resume sending": rows waiting for the mail server are due now, and the
    campaign is driven at once (as the sweep would, even if a chunk seems busy)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.SENDING:
        raise ValidationError(_("Only a campaign that is sending can be resumed."))
    Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.PENDING, next_attempt_at__isnull=False
    ).update(next_attempt_at=None)
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_RESUME, obj=campaign, by_user_id=by and by.pk
    )
    campaign_id = campaign.pk
    transaction.on_commit(lambda: _campaign_drive(campaign_id, even_if_busy=True))
    logger.info("campaign resumed campaign_id=%s by_user_id=%s", campaign.pk, by and by.pk)
    return campaign


def campaign_dispatch_due() -> int:
    """Beat: send the scheduled campaigns whose time has come."""
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    sent = 0
    for campaign_id in list(due):
        try:
            campaign_send_now(campaign=Campaign.objects.get(pk=campaign_id))
            sent += 1
        except ValidationError:
            logger.warning("scheduled campaign not sendable campaign_id=%s", campaign_id)
    return sent


def campaign_send_test(*, campaign: Campaign, to_address: str) -> None:
    """Send the campaign once to a staff member's own address, marked as a test."""
    from apps.marketing.mail import PreparedCampaign, Recipient
    from apps.marketing.transport import MailServerUnavailable, Outcome, RawSender

    _require_sendable(campaign)
    prepared = PreparedCampaign(campaign)
    raw, _mid = prepared.render(
        Recipient(address=to_address, name="(テスト / test)", subscription_id=0, delivery_id=0)
    )
    try:
        with RawSender() as sender:
            outcome = sender.send(raw, prepared.from_address, to_address)
    except MailServerUnavailable:
        raise ValidationError(_("The mail server could not be reached. Try again later.")) from None
    if outcome is not Outcome.SENT:
        raise ValidationError(_("The mail server did not accept the test message."))
