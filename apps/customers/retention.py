"""Retention rules for the customers app (registered with apps.core.retention).

- ``expired_sessions``: a session past its expiry date can never be used again; it goes the day
  after (what ``manage.py clearsessions`` does, run with the other rules).
- ``non_member_inquiries``: an inquiry from someone without a login (a visitor, or a guest
  purchaser) is deleted the day after ``RETENTION_INQUIRY_DAYS`` (default 365) from its receipt:
  long enough to answer it and a follow-up question, and there is no account to keep it with.
  A member's inquiries stay with the member (and go with their erasure). A privacy request made
  from an inquiry keeps its own record (its link to the inquiry is cleared).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.core.dates import start_of_day
from apps.core.retention import register
from apps.customers.models import Inquiry, Session


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
    notice=lambda: _("Login sessions: deleted the day after they expire."),
)


def purge_non_member_inquiries(*, today: datetime.date, dry_run: bool = False) -> int:
    cutoff = start_of_day(today - datetime.timedelta(days=settings.RETENTION_INQUIRY_DAYS))
    expired = Inquiry.objects.filter(
        Q(customer__isnull=True) | Q(customer__user__isnull=True), created_at__lt=cutoff
    )
    if dry_run:
        return expired.count()
    return expired.delete()[1].get(Inquiry._meta.label, 0)


register(
    "non_member_inquiries",
    description="Delete inquiries of people without a login RETENTION_INQUIRY_DAYS after receipt.",
    apply=purge_non_member_inquiries,
    order=85,
    notice=lambda: (
        _("Inquiries from people without an account: deleted %(days)s days after we receive them.")
        % {"days": settings.RETENTION_INQUIRY_DAYS}
    ),
)
