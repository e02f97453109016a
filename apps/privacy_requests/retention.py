"""Retention rules for privacy requests (registered with apps.core.retention).

- ``privacy_request_files``: identity documents once verified (where the procedure says so),
  ``PRIVACY_DOCUMENT_RETENTION_DAYS`` after the request closed, or after
  ``PRIVACY_UNFINISHED_DOCUMENT_DAYS`` with nothing done on an open request; disclosure packages
  once their download link expired; an erased person's contact details that an undeliverable
  notice would otherwise keep. What was checked, by whom and when stays in the timeline.
- ``privacy_request_records``: an erased person's request records (reference, kind, dates,
  decision, timeline) the day after the "kept until" date their erasure notice promised
  (``PRIVACY_REQUEST_RECORD_YEARS`` after the erasure).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from apps.core.dates import start_of_day
from apps.core.retention import register
from apps.privacy_requests.services.retention import (
    privacy_request_records_purge,
    privacy_requests_purge,
    privacy_requests_purge_due_count,
)


def purge_files_and_contacts(*, today: datetime.date, dry_run: bool = False) -> int:
    # Its limits are hours and days from a moment (a link expires at 14:05), so the daily run
    # takes them at the time it runs; another day (``retention_run --today``) at its start.
    now = timezone.now() if today == timezone.localdate() else start_of_day(today)
    if dry_run:
        return privacy_requests_purge_due_count(now=now)
    return sum(privacy_requests_purge(now=now).values())


register(
    "privacy_request_files",
    description="Delete identity documents, expired disclosure packages and erased people's "
    "contact details kept for a notice, past their limits.",
    apply=purge_files_and_contacts,
)


register(
    "privacy_request_records",
    description="Delete erased people's request records (and their timelines and notices) the "
    "day after the date their erasure notice said they are kept until.",
    apply=privacy_request_records_purge,
)
