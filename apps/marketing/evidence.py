"""The record of consent for one e-mail address (Specified E-mail Act Art. 3(2)): every consent
event, confirmation and mail sent on it, for the privacy officer to produce on request.

The people are found by the address as typed (a customer's current address) and by its keyed
hash (a subscription confirmed on it, even if the customer's address changed since), so the
address itself is never stored for the lookup. Reads only; the admin view writes the CSV.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db.models import Max

from apps.consents.models import ConsentEvent, ConsentEventContext
from apps.core.dates import add_months, add_years
from apps.customers.models import Customer
from apps.marketing.models import (
    Delivery,
    MailMagazine,
    Subscription,
    SuppressedAddress,
    SuppressionLift,
)
from apps.marketing.retention import KEEP_YEARS
from apps.marketing.selectors import address_hash

# The rule the marketing retention job keeps (apps/marketing/retention.py, tested): a consent
# event of a magazine's purpose and the mails sent on it are kept until the later of one month
# after the last mail sent on it and 3 years (we keep mails 3 years, so the later date holds).
KEEP_UNTIL_RULE = (
    "Kept until the later of one month after the last mail sent on the consent and 3 years "
    "(Specified E-mail Act Art. 3(2) record of consent)."
)

HEADER = ["kind", "at", "customer_id", "consent_event_id", "purpose", "action", "source",
          "policy_version", "wording_sha256", "wording", "ip_address", "staff_user_id",
          "magazine", "campaign_subject", "delivery_status", "message_id", "keep_until"]  # fmt: skip


def people_for_address(*, address: str) -> list[int]:
    """Customer ids the address belongs to now or was confirmed for (erased people included:
    their ledger and mails stay for the keeping period)."""
    typed = (address or "").strip().lower()
    if not typed:
        return []
    hashed = address_hash(typed)
    ids = set(Customer.objects.filter(email__iexact=typed).values_list("pk", flat=True))
    ids |= set(Subscription.objects.filter(email_hash=hashed).values_list("customer_id", flat=True))
    return sorted(ids)


def _keep_until(at: datetime.datetime, last_mail: datetime.datetime | None) -> datetime.date:
    three_years = add_years(at.date(), KEEP_YEARS)
    if last_mail is None:
        return three_years
    return max(three_years, add_months(last_mail.date(), 1))


def evidence_rows(*, customer_ids: list[int], address: str = "") -> Iterator[list]:
    """The CSV rows (after ``HEADER``), oldest first within each kind; with ``address``, also
    its suppressions (an opt-out, a bounce, an erasure) and erasure suppressions lifted by a
    confirmed re-subscription, found by the address's keyed hash."""
    purposes = MailMagazine.objects.values("purpose_id")
    events = (
        ConsentEvent.objects.filter(customer_id__in=customer_ids, purpose_id__in=purposes)
        .select_related("purpose", "policy_version", "wording")
        .order_by("occurred_at", "pk")
    )
    last_mail = dict(
        Delivery.objects.filter(customer_id__in=customer_ids, status=Delivery.Status.SENT)
        .exclude(consent_event_id=None)
        .values("consent_event_id")
        .annotate(last=Max("sent_at"))
        .values_list("consent_event_id", "last")
    )
    ips = dict(
        ConsentEventContext.objects.filter(event__customer_id__in=customer_ids).values_list(
            "event_id", "ip_address"
        )
    )
    for event in events:
        yield ["consent_event", event.occurred_at, event.customer_id, event.pk, event.purpose.code,
               event.action, event.source, event.policy_version or "", event.wording.sha256,
               event.wording.text, ips.get(event.pk) or "", event.actor_id or "", "", "", "", "",
               _keep_until(event.occurred_at, last_mail.get(event.pk))]  # fmt: skip
    subscriptions = (
        Subscription.objects.filter(customer_id__in=customer_ids)
        .select_related("magazine")
        .order_by("pk")
    )
    for sub in subscriptions:
        if sub.confirm_sent_at:
            yield ["confirmation_sent", sub.confirm_sent_at, sub.customer_id, "", "", "", "", "",
                   "", "", "", "", sub.magazine.name, "", sub.get_status_display(), "", ""]  # fmt: skip
        if sub.confirmed_at:
            yield ["confirmed", sub.confirmed_at, sub.customer_id, "", "", "", "", "", "", "",
                   "", "", sub.magazine.name, "", sub.get_status_display(), "", ""]  # fmt: skip
    deliveries = (
        Delivery.objects.filter(customer_id__in=customer_ids, status=Delivery.Status.SENT)
        .select_related("campaign__magazine")
        .order_by("sent_at", "pk")
    )
    for d in deliveries.iterator(chunk_size=1000):
        yield ["mail_sent", d.sent_at, d.customer_id, d.consent_event_id or "", "", "", "", "",
               "", "", "", "", d.campaign.magazine.name, d.campaign.subject, d.status,
               d.message_id, add_years(d.sent_at.date(), KEEP_YEARS)]  # fmt: skip
    if not address:
        return
    hashed = address_hash(address)
    for s in SuppressedAddress.objects.filter(address_hash=hashed).select_related("magazine"):
        yield ["suppressed", s.created_at, "", "", "", s.reason, "", "", "", "", "", "",
               s.magazine.name if s.magazine else "", "", "", "", ""]  # fmt: skip
    for lift in SuppressionLift.objects.filter(address_hash=hashed).select_related("magazine"):
        yield ["suppression_lifted", lift.lifted_at, "", lift.consent_event_id, "", lift.reason,
               "", "", "", "", "", "", lift.magazine.name if lift.magazine else "", "", "", "",
               ""]  # fmt: skip
