"""Export and erasure of what the marketing app holds about a person.

Erasure unsubscribes and deletes their subscriptions and puts the address on the suppression
list as a keyed hash (so it is never mailed again, without keeping the address). Delivery rows
hold ids only and stay as the record of what was sent on which consent."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
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


def _suppress(hashes: list[str]) -> int:
    """Add the hashes to the global suppression list; how many were not on it yet (one
    statement: INSERT … ON CONFLICT DO NOTHING RETURNING, on PostgreSQL and SQLite alike)."""
    if not hashes:
        return 0
    now = timezone.now()
    rows = ", ".join(["(%s, NULL, %s, %s)"] * len(hashes))
    params = [value for h in hashes for value in (h, SuppressedAddress.Reason.ERASED, now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SuppressedAddress._meta.db_table} "  # noqa: S608 (our table name)
            f"(address_hash, magazine_id, reason, created_at) VALUES {rows} "
            "ON CONFLICT DO NOTHING RETURNING id",
            params,
        )
        return len(cursor.fetchall())


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
    if dry_run:
        suppressed = set(
            SuppressedAddress.objects.filter(
                address_hash__in=hashes, magazine__isnull=True
            ).values_list("address_hash", flat=True)
        )
        report.anonymised["marketing.SuppressedAddress"] = len(hashes - suppressed)
        report.deleted["marketing.Subscription"] = subscriptions.count()
        return report
    report.anonymised["marketing.SuppressedAddress"] = _suppress(sorted(hashes))
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
