"""The demo's mail-magazine audience: months of consent history for the crowd, their
subscriptions, two campaigns sent to a few hundred of them, and the unsubscribes after each.

- Consents go through the ledger's bulk service (its rules: append-only events, the current
  state in the same transaction, no grant for an erased person). The ledger stamps each event
  with the time it reaches us, so the demo replays the history by setting that clock for the
  calls (``as_of``): a demo's past, never something the product does.
- Unsubscribes go through ``subscription_unsubscribe`` (the ledger's withdrawal, the
  suppression list), also replayed at their time.
- What is just volume is written in bulk: the subscriptions of people whose consent is
  recorded, and the campaigns' deliveries (the pipeline is not run: no mail is sent).

Idempotent: people with a consent state for the purpose are left as they are, and a campaign
whose subject exists is not sent again.
"""

from __future__ import annotations

import datetime
import random
from contextlib import contextmanager
from unittest import mock

from django.utils import timezone

from apps.consents.models import ConsentState, Source
from apps.consents.services.ledger_bulk import LedgerEntry, consent_events_record
from apps.core.dashboard import month_starts
from apps.customers.models import Customer
from apps.marketing.models import Campaign, Delivery, MailMagazine, Subscription
from apps.marketing.selectors import address_hash
from apps.marketing.services import subscription_unsubscribe

# Of the crowd, how many joined in each of the last months (oldest first); the rest never did.
JOINED_PER_MONTH = (60, 45, 50, 40, 35, 30)
CAMPAIGNS = (
    # (subject, days ago, unsubscribes in the days after it)
    ("【デモショップ】秋の収穫祭セールのお知らせ", 40, 4),
    ("【デモショップ】冬のギフト特集", 3, 9),
)
SKIPPED, FAILED, BOUNCED = 5, 3, 4


@contextmanager
def as_of(moment: datetime.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def consent_history(*, magazine: MailMagazine, crowd: list[Customer], today: datetime.date) -> int:
    """Grants spread over the last months; returns how many people were added."""
    purpose = magazine.purpose
    known = set(
        ConsentState.objects.filter(purpose=purpose, customer__in=crowd).values_list(
            "customer_id", flat=True
        )
    )
    fresh = [c for c in crowd if c.pk not in known]
    if len(fresh) < len(crowd):
        return 0  # already seeded (or partly by hand): leave the history as it is
    rng = random.Random(17)
    added = 0
    position = 0
    for start, joined in zip(
        month_starts(today=today, count=len(JOINED_PER_MONTH)), JOINED_PER_MONTH, strict=True
    ):
        people = fresh[position : position + joined]
        position += joined
        last_day = min(today, (start + datetime.timedelta(days=27)))
        days = sorted(rng.randint(0, (last_day - start).days) for _ in people)
        for day_offset in sorted(set(days)):
            batch = [p for p, d in zip(people, days, strict=True) if d == day_offset]
            with as_of(_noon(start + datetime.timedelta(days=day_offset))):
                consent_events_record(
                    entries=[
                        LedgerEntry(customer=p, purpose=purpose, granted=True, source=Source.IMPORT)
                        for p in batch
                    ]
                )
            Subscription.objects.bulk_create(
                [
                    Subscription(
                        magazine=magazine,
                        customer=p,
                        status=Subscription.Status.ACTIVE,
                        email_hash=address_hash(p.email),
                        confirmed_at=_noon(start + datetime.timedelta(days=day_offset)),
                    )
                    for p in batch
                ]
            )
        added += len(people)
    return added


def campaigns_sent(*, magazine: MailMagazine, today: datetime.date) -> int:
    """Two campaigns sent to the subscribers of their day, with a few skipped, failed and
    bounced deliveries and some unsubscribes after each. Returns how many were added."""
    added = 0
    for subject, days_ago, unsubscribes in CAMPAIGNS:
        if Campaign.objects.filter(magazine=magazine, subject=subject).exists():
            continue
        sent_at = _noon(today - datetime.timedelta(days=days_ago))
        campaign = Campaign.objects.create(
            magazine=magazine,
            subject=subject,
            body_text="{name} 様\n\nデモショップからのお知らせです。",
            status=Campaign.Status.SENT,
            started_at=sent_at,
            finished_at=sent_at + datetime.timedelta(minutes=12),
        )
        audience = list(
            Subscription.objects.filter(
                magazine=magazine, status=Subscription.Status.ACTIVE, confirmed_at__lt=sent_at
            )
            .select_related("customer")
            .order_by("pk")
        )
        reasons = dict(
            ConsentState.objects.filter(
                purpose=magazine.purpose, customer__in=[s.customer_id for s in audience]
            ).values_list("customer_id", "last_event_id")
        )
        deliveries = []
        for i, subscription in enumerate(audience):
            status = (
                Delivery.Status.SKIPPED
                if i < SKIPPED
                else Delivery.Status.FAILED
                if i < SKIPPED + FAILED
                else Delivery.Status.SENT
            )
            bounced = SKIPPED + FAILED <= i < SKIPPED + FAILED + BOUNCED
            deliveries.append(
                Delivery(
                    campaign=campaign,
                    customer=subscription.customer,
                    subscription=subscription,
                    consent_event_id=reasons.get(subscription.customer_id),
                    status=status,
                    skip_reason="suppressed" if status == Delivery.Status.SKIPPED else "",
                    attempts=0 if status == Delivery.Status.SKIPPED else 1,
                    sent_at=sent_at if status == Delivery.Status.SENT else None,
                    feedback=Delivery.Feedback.BOUNCED if bounced else "",
                    feedback_at=sent_at + datetime.timedelta(minutes=30) if bounced else None,
                )
            )
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        for n, subscription in enumerate(audience[-unsubscribes:]):
            with as_of(sent_at + datetime.timedelta(hours=3 + 7 * n)):
                subscription_unsubscribe(subscription=subscription)
        added += 1
    return added
