"""Retention rules for mail magazines (registered with apps.core.retention).

- ``marketing_consent_records``: a delivery row is the record of which mail went to whom on
  which consent. It is kept for 3 years after the mail was sent (the Specified Electronic Mail
  Act asks for one month after the last mail; we keep 3 years), then deleted. A consent event
  for a magazine's purpose goes once it is older than 3 years, no longer decides the person's
  current answer, and no remaining delivery was sent on it; the record of a lifted erasure
  suppression resting on it goes with it.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from apps.consents.models import ConsentEvent, ConsentState
from apps.consents.services import consent_events_purge
from apps.core.dates import start_of_day
from apps.core.retention import register, years_before
from apps.marketing.models import Delivery, MailMagazine, SuppressionLift

KEEP_YEARS = 3
CHUNK = 1000


def _cutoff(today: datetime.date) -> datetime.datetime:
    return start_of_day(years_before(today, KEEP_YEARS))


def _old_deliveries(cutoff: datetime.datetime):
    # Skipped and failed rows have no sent_at: they age with their campaign.
    return Delivery.objects.filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, campaign__created_at__lt=cutoff)
    )


def _purgeable_events(cutoff: datetime.datetime):
    """Magazine consent events older than the cutoff that decide no current answer and that
    no delivery younger than the cutoff was sent on."""
    recent = Delivery.objects.filter(consent_event_id=OuterRef("pk")).exclude(
        pk__in=_old_deliveries(cutoff).values("pk")
    )
    return (
        ConsentEvent.objects.filter(
            purpose_id__in=MailMagazine.objects.values("purpose_id"), occurred_at__lt=cutoff
        )
        .exclude(Exists(ConsentState.objects.filter(last_event_id=OuterRef("pk"))))
        .exclude(Exists(recent))
    )


def purge(*, today: datetime.date, dry_run: bool = False) -> int:
    cutoff = _cutoff(today)
    if dry_run:
        return _old_deliveries(cutoff).count() + _purgeable_events(cutoff).count()
    deleted = 0
    while ids := list(_old_deliveries(cutoff).values_list("pk", flat=True)[:CHUNK]):
        with transaction.atomic():
            deleted += Delivery.objects.filter(pk__in=ids).delete()[0]
    while ids := list(_purgeable_events(cutoff).values_list("pk", flat=True)[:CHUNK]):
        # A lifted erasure suppression is evidence as long as the confirmation it rests on.
        SuppressionLift.objects.filter(consent_event_id__in=ids).delete()
        purged = consent_events_purge(event_ids=ids)
        deleted += purged
        if not purged:
            break
    return deleted


register(
    "marketing_consent_records",
    description="Delete deliveries 3 years after the mail, then the magazine consent events "
    "that no longer decide anything and no delivery was sent on.",
    apply=purge,
    order=55,
    notice=lambda: _(
        "Records of mail magazines sent and the consents they were sent on: 3 years after the "
        "mail, then deleted."
    ),
)
