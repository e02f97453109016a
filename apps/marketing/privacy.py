"""Export and erasure of what the marketing app holds about a person.

Erasure unsubscribes and deletes their subscriptions and puts the address on the suppression
list as a keyed hash (so it is never mailed again, without keeping the address). Delivery rows
hold ids only and stay as the record of what was sent on which consent."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from apps.core.privacy import ErasureReport, register
from apps.customers.models import Customer
from apps.marketing.models import Delivery, Subscription, SuppressedAddress
from apps.marketing.selectors import address_hash

SUBSCRIPTION_FIELDS = ("email_hash", "confirm_token_hash")


def export(customer_id: int) -> dict[str, list[dict]]:
    return {
        "subscriptions": [
            {
                "magazine": s.magazine.name,
                "status": s.status,
                "since": s.confirmed_at or s.created_at,
                "unsubscribed_at": s.unsubscribed_at,
            }
            for s in Subscription.objects.filter(customer_id=customer_id).select_related("magazine")
        ],
        "mails_received": [
            {"campaign": d.campaign.subject, "sent_at": d.sent_at, "status": d.status}
            for d in Delivery.objects.filter(customer_id=customer_id, status="sent")
            .select_related("campaign")
            .order_by("sent_at")
        ],
    }


def erase(customer_id: int, *, dry_run: bool = False) -> ErasureReport:
    """Suppress the person's addresses (keyed hashes), unlink and delete their subscriptions.
    Their consents are withdrawn by the consents eraser, which runs after this one. A handful of
    statements whatever the number of subscriptions and mails."""
    report = ErasureReport()
    email = Customer.objects.filter(pk=customer_id).values_list("email", flat=True).first() or ""
    subscriptions = Subscription.objects.filter(customer_id=customer_id)
    hashes = set(subscriptions.values_list("email_hash", flat=True))
    if email:
        hashes.add(address_hash(email))
    deliveries = Delivery.objects.filter(customer_id=customer_id).count()
    if deliveries:
        report.kept["marketing.Delivery"] = (
            deliveries,
            gettext_noop(
                "Which mail was sent on which consent (ids only), kept as the record of consent "
                "for 3 years after the last mail."
            ),
            None,
        )
    new_hashes = sorted(
        hashes
        - set(
            SuppressedAddress.objects.filter(
                address_hash__in=hashes, magazine__isnull=True
            ).values_list("address_hash", flat=True)
        )
    )
    report.anonymised["marketing.SuppressedAddress"] = len(new_hashes)
    if dry_run:
        report.deleted["marketing.Subscription"] = subscriptions.count()
        return report
    SuppressedAddress.objects.bulk_create(
        [
            SuppressedAddress(address_hash=h, reason=SuppressedAddress.Reason.ERASED)
            for h in new_hashes
        ],
        ignore_conflicts=True,  # an erasure of the same address running at the same moment
    )
    if deliveries:
        Delivery.objects.filter(customer_id=customer_id, subscription__isnull=False).update(
            subscription=None
        )
    # Nothing points at a subscription any more: one DELETE, no collector.
    report.deleted["marketing.Subscription"] = subscriptions._raw_delete(subscriptions.db)
    return report


register(
    "marketing",
    exporter=export,
    eraser=erase,
    covers={"marketing.Subscription": SUBSCRIPTION_FIELDS},
    order=40,
)
