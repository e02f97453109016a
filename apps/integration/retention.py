"""Retention rules for the integration app (registered with apps.core.retention).

- ``api_idempotency``: the first answer to a POST is kept for at least a day so a storefront's retry gets
  it again; past that a retry is a new request (what Stripe does), so the rows go.
"""

from __future__ import annotations

import datetime

from apps.core.dates import start_of_day
from apps.core.retention import register
from apps.integration.models import IdempotencyRecord


def purge_idempotency_records(*, today: datetime.date, dry_run: bool = False) -> int:
    old = IdempotencyRecord.objects.filter(
        created_at__lt=start_of_day(today - datetime.timedelta(days=1))
    )
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    return deleted


register(
    "api_idempotency",
    description="Delete the stored first answers to API calls after a day.",
    apply=purge_idempotency_records,
    order=200,
)
