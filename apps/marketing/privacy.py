"""Export and erasure of what the marketing app holds about a person.

Erasure unsubscribes and deletes their subscriptions and puts the address on the suppression
list as a keyed hash (so it is never mailed again, without keeping the address). Delivery rows
hold ids only and stay as the record of what was sent on which consent."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from apps.core.db import write_together
from apps.core.privacy import Column, ErasureReport, Section, register
from apps.customers.models import Customer
from apps.marketing.models import Delivery, Subscription, SuppressedAddress
from apps.marketing.selectors import address_hash

SUBSCRIPTION_FIELDS = ("email_hash", "confirm_token_hash")


SUBSCRIPTIONS = Section(
    "subscriptions",
    pgettext_lazy("disclosure page section", "Mail magazine subscriptions"),
    (
        Column("magazine", _("Mail magazine")),
        Column("status", _("Status"), choices=Subscription.Status),
        Column("since", _("Subscribed since")),
        Column("unsubscribed_at", _("Unsubscribed at")),
    ),
)
MAILS_RECEIVED = Section(
    "mails_received",
    pgettext_lazy("disclosure page section", "Mails you received"),
    (
        Column("campaign", _("Subject")),
        Column("sent_at", _("Sent at")),
        Column("status", _("Status"), choices=Delivery.Status),
        Column("provider_report", _("What the mail provider reported"), choices=Delivery.Feedback),
    ),
    _("The mail magazine issues we sent you."),
)


def export(customer_id: int) -> list[Section]:
    return [
        SUBSCRIPTIONS.with_rows(
            {
                "magazine": s.magazine.name,
                "status": s.status,
                "since": s.confirmed_at or s.created_at,
                "unsubscribed_at": s.unsubscribed_at,
            }
            for s in Subscription.objects.filter(customer_id=customer_id).select_related("magazine")
        ),
        MAILS_RECEIVED.with_rows(
            {
                "campaign": d.campaign.subject,
                "sent_at": d.sent_at,
                "status": d.status,
                # A bounce or spam report the mail provider sent us about this mail.
                "provider_report": d.feedback,
            }
            for d in Delivery.objects.filter(customer_id=customer_id, status="sent")
            .select_related("campaign")
            .order_by("sent_at")
        ),
    ]


def _suppress(*, customer_ids: list[int], hashes: set[str]) -> int:
    """Put on the global suppression list (no magazine: every one) the hashes of the person's subscriptions and the
    given ones; how many were not on it yet. One statement (INSERT … SELECT … ON CONFLICT DO
    NOTHING RETURNING), on PostgreSQL and SQLite alike."""
    table = SuppressedAddress._meta.db_table
    given = " UNION ".join(["SELECT %s"] * len(hashes))
    sql = (
        f"INSERT INTO {table} (address_hash, reason, created_at) "  # noqa: S608
        "SELECT DISTINCT h, %s, %s FROM ("
        f"SELECT email_hash AS h FROM {Subscription._meta.db_table} "
        f"WHERE customer_id IN ({', '.join(['%s'] * len(customer_ids))})"
        f"{' UNION ' + given if given else ''}"
        ") AS person WHERE h <> '' ON CONFLICT DO NOTHING RETURNING id"
    )  # table names are ours; every value is a parameter
    params = [SuppressedAddress.Reason.ERASED, timezone.now(), *customer_ids, *sorted(hashes)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    """Suppress the person's addresses (keyed hashes), unlink and delete their subscriptions.
    Their consents are withdrawn by the consents eraser, which runs after this one. Two
    statements whatever the number of subscriptions and mails."""
    return _erase([person], dry_run=dry_run)


def erase_many(people: list[Customer], *, dry_run: bool = False) -> ErasureReport:
    """`erase` for a batch of people: the same two statements over all of them."""
    return _erase(people, dry_run=dry_run)


def _erase(people: list[Customer], *, dry_run: bool) -> ErasureReport:
    report = ErasureReport()
    ids = [person.pk for person in people]
    hashes = {address_hash(person.email) for person in people if person.email}
    subscriptions = Subscription.objects.filter(customer_id__in=ids)
    deliveries = Delivery.objects.filter(customer_id__in=ids)
    if dry_run:
        hashes |= set(subscriptions.values_list("email_hash", flat=True))
        suppressed = set(
            SuppressedAddress.objects.filter(
                address_hash__in=hashes, magazine__isnull=True
            ).values_list("address_hash", flat=True)
        )
        report.anonymised["marketing.SuppressedAddress"] = len(hashes - suppressed)
        report.deleted["marketing.Subscription"] = subscriptions.count()
        kept = deliveries.count()
    else:
        report.anonymised["marketing.SuppressedAddress"] = _suppress(
            customer_ids=ids, hashes=hashes
        )
        # One statement: the mails are unlinked and the subscriptions they pointed at deleted
        # (no collector; the foreign key is checked at commit). Every mail of the person's
        # matches (already unlinked ones too), so the count of what is kept comes with it.
        kept, report.deleted["marketing.Subscription"] = write_together(
            (deliveries, {"subscription": None}), subscriptions
        )
    if kept:
        report.kept["marketing.Delivery"] = (
            kept,
            gettext_noop(
                "Which mail was sent on which consent (ids only), kept as the record of consent "
                "for 3 years after the last mail."
            ),
            None,
        )
    return report


register(
    "marketing",
    exporter=export,
    eraser=erase,
    erase_many=erase_many,
    covers={"marketing.Subscription": SUBSCRIPTION_FIELDS},
    sections=(SUBSCRIPTIONS, MAILS_RECEIVED),
    # Its hashes come from the person's e-mail address: before the customers eraser empties it.
    # It unsubscribes before the consents eraser withdraws, so that withdrawal covers every
    # consent.
    runs_before=("consents", "customers"),
    labels={"marketing.SuppressedAddress": _("do-not-mail list (a one-way code, not the address)")},
)
