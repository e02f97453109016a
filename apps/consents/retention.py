"""Retention rules for the consents app (registered with apps.core.retention).

- ``provision_records``: third-party provision and receipt records are kept until their
  ``retain_until`` (3 years by default, APPI Art. 29/30 and Enforcement Rules Art. 21) and
  deleted the day after.
- ``visitor_cookie_evidence``: the IP address and user agent recorded with a visitor's cookie
  choice (no member behind it) are cleared the day after ``RETENTION_VISITOR_EVIDENCE_DAYS``
  (default 180, the life of the choice cookie: after it the visitor is asked again and the old
  choice governs nothing). The ledger event itself (purpose, choice, wording, time) stays.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from apps.consents.models import ConsentEventContext, ProvisionRecord, ReceiptRecord
from apps.core.dates import start_of_day
from apps.core.retention import register


def delete_expired_records(*, today: datetime.date, dry_run: bool = False) -> int:
    provisions = ProvisionRecord.objects.filter(retain_until__lt=today)
    receipts = ReceiptRecord.objects.filter(retain_until__lt=today)
    count = provisions.count() + receipts.count()
    if not dry_run and count:
        with transaction.atomic():
            provisions.delete()
            receipts.delete()
    return count


register(
    "provision_records",
    description="Delete provision and receipt records the day after their keep-until date.",
    apply=delete_expired_records,
    order=60,
    notice=lambda: _(
        "Records of provision to third parties and of data received from them: 3 years, "
        "then deleted."
    ),
)


def clear_visitor_cookie_evidence(*, today: datetime.date, dry_run: bool = False) -> int:
    cutoff = start_of_day(today - datetime.timedelta(days=settings.RETENTION_VISITOR_EVIDENCE_DAYS))
    expired = ConsentEventContext.objects.filter(
        event__customer__isnull=True, event__occurred_at__lt=cutoff
    )
    if dry_run:
        return expired.count()
    return expired.delete()[1].get(ConsentEventContext._meta.label, 0)


register(
    "visitor_cookie_evidence",
    description="Clear the IP and user agent of visitors' cookie choices when the choice lapses.",
    apply=clear_visitor_cookie_evidence,
    order=65,
    notice=lambda: (
        _(
            "Cookie choices of visitors: the IP address and browser are cleared %(days)s days after "
            "the choice; the choice itself is kept as the record of consent."
        )
        % {"days": settings.RETENTION_VISITOR_EVIDENCE_DAYS}
    ),
)
