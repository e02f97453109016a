"""Retention rules for the customers app (registered with apps.core.retention).

- ``expired_sessions``: a session past its expiry date can never be used again; it goes the day
  after (what ``manage.py clearsessions`` does, run with the other rules).
"""

from __future__ import annotations

import datetime

from apps.core.dates import start_of_day
from apps.core.retention import register
from apps.customers.models import Session


def purge_expired_sessions(*, today: datetime.date, dry_run: bool = False) -> int:
    expired = Session.objects.filter(expire_date__lt=start_of_day(today))
    if dry_run:
        return expired.count()
    return expired._raw_delete(expired.db)  # nothing points at a session


register(
    "expired_sessions",
    description="Delete sessions the day after they expired.",
    apply=purge_expired_sessions,
    order=90,
)
