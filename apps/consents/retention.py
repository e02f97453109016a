"""Retention rules for the consents app (registered with apps.core.retention).

- ``provision_records``: third-party provision and receipt records are kept until their
  ``retain_until`` (3 years by default, APPI Art. 29/30 and Enforcement Rules Art. 21) and
  deleted the day after.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from apps.consents.models import ProvisionRecord, ReceiptRecord
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
)
