"""Writes on the breach register. Each is one transaction."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.unchanged import UNCHANGED, Unchanged, given
from apps.incidents.models import Incident, IncidentNotice

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncidentFacts:
    """What the register holds of a breach, as staff enter it. A field left UNCHANGED takes the
    model's default when the incident is recorded and stays as it is on an update."""

    discovered_at: datetime.datetime | Unchanged = UNCHANGED
    title: str | Unchanged = UNCHANGED
    description: str | Unchanged = UNCHANGED
    data_items: str | Unchanged = UNCHANGED
    people_affected: int | Unchanged = UNCHANGED
    sensitive_data: bool | Unchanged = UNCHANGED
    card_data: bool | Unchanged = UNCHANGED
    unauthorised_access: bool | Unchanged = UNCHANGED
    strongly_encrypted: bool | Unchanged = UNCHANGED
    involves_eu_people: bool | Unchanged = UNCHANGED
    aware_at: datetime.datetime | Unchanged | None = UNCHANGED
    eu_unlikely_risk: bool | Unchanged = UNCHANGED
    eu_high_risk: bool | Unchanged = UNCHANGED
    authority_notified_at: datetime.datetime | Unchanged | None = UNCHANGED
    preliminary_reported_on: datetime.date | Unchanged | None = UNCHANGED
    final_reported_on: datetime.date | Unchanged | None = UNCHANGED

    def given(self) -> dict[str, object]:
        return given(**{field.name: getattr(self, field.name) for field in fields(self)})


INCIDENT_FIELDS = tuple(field.name for field in fields(IncidentFacts))


def incident_errors(
    *,
    discovered_at: datetime.datetime | None,
    preliminary_reported_on: datetime.date | None = None,
    final_reported_on: datetime.date | None = None,
    aware_at: datetime.datetime | None = None,
    authority_notified_at: datetime.datetime | None = None,
) -> dict[str, str]:
    """The register's rules beyond field validation (also used by the admin form)."""
    errors = {}
    if discovered_at is None:
        return errors
    if discovered_at > timezone.now():
        errors["discovered_at"] = _("The discovery cannot be in the future.")
    discovered_on = timezone.localtime(discovered_at).date()
    for field, day in (
        ("preliminary_reported_on", preliminary_reported_on),
        ("final_reported_on", final_reported_on),
    ):
        if day and day < discovered_on:
            errors[field] = _("A report cannot be sent before the incident was discovered.")
    if aware_at and aware_at < discovered_at:
        errors["aware_at"] = _("The shop cannot be aware of a breach before discovering it.")
    elif aware_at and aware_at > timezone.now():
        errors["aware_at"] = _("The awareness cannot be in the future.")
    if authority_notified_at and authority_notified_at < discovered_at:
        errors["authority_notified_at"] = _(
            "A report cannot be sent before the incident was discovered."
        )
    return errors


def _check(incident: Incident) -> None:
    incident.full_clean(exclude=["created_by_id"])
    errors = incident_errors(
        discovered_at=incident.discovered_at,
        preliminary_reported_on=incident.preliminary_reported_on,
        final_reported_on=incident.final_reported_on,
        aware_at=incident.aware_at,
        authority_notified_at=incident.authority_notified_at,
    )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def incident_create(*, facts: IncidentFacts, created_by_id: int | None = None) -> Incident:
    # A field left out takes the model's default, and the model's validation says which are
    # required.
    incident = Incident(created_by_id=created_by_id, **facts.given())
    _check(incident)
    incident.save()
    logger.info(
        "incident recorded incident_id=%s must_report=%s gdpr_notify=%s",
        incident.pk,
        incident.must_report,
        incident.gdpr_must_notify,
    )
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, facts: IncidentFacts) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    for name, value in facts.given().items():
        setattr(incident, name, value)
    _check(incident)
    incident.save()
    logger.info("incident updated incident_id=%s", incident.pk)
    return incident


@transaction.atomic
def incident_notice_record(
    *,
    incident: Incident,
    channel: str,
    recipients: int,
    summary: str,
    sent_at: datetime.datetime | None = None,
    sent_by_id: int | None = None,
) -> IncidentNotice:
    notice = IncidentNotice(
        incident=incident,
        channel=channel,
        recipients=recipients,
        summary=summary,
        sent_at=sent_at or timezone.now(),
        sent_by_id=sent_by_id,
    )
    notice.full_clean()
    if notice.sent_at < incident.discovered_at:
        raise ValidationError({"sent_at": _("A notice cannot precede the discovery.")})
    notice.save()
    logger.info("incident notice recorded incident_id=%s notice_id=%s", incident.pk, notice.pk)
    return notice
