"""The cookie banner's choices, for visitors and members, and linking a visitor to a member."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from apps.consents.models import (
    ConsentEvent,
    ConsentState,
    Purpose,
    Source,
    VisitorLink,
)
from apps.consents.services.ledger import Evidence, consent_set
from apps.customers.models import Customer

logger = logging.getLogger(__name__)

Action = ConsentEvent.Action
Status = ConsentState.Status


# ------------------------------------------------------------------ cookies


@transaction.atomic
def cookie_choice_record(
    *,
    choices: dict[str, bool],
    visitor_id: uuid.UUID,
    customer: Customer | None = None,
    wording: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> list[ConsentEvent]:
    """Record a cookie-banner choice per category, for the member when logged in, otherwise for
    the anonymous visitor id."""
    events = []
    purposes = Purpose.objects.filter(cookie_category__in=list(choices), is_active=True)
    for purpose in purposes.order_by("pk"):
        subject = {"customer": customer} if customer else {"visitor_id": visitor_id}
        event = consent_set(
            purpose=purpose,
            granted=bool(choices[purpose.cookie_category]),
            source=Source.COOKIE_BANNER,
            evidence=Evidence(wording=wording, ip_address=ip_address, user_agent=user_agent),
            **subject,
        )
        if event is not None:
            events.append(event)
    return events


@transaction.atomic
def visitor_link(*, visitor_id: uuid.UUID, customer: Customer) -> int:
    """At login: carry the visitor's cookie choices over to the member (as new ledger events)."""
    _link, created = VisitorLink.objects.get_or_create(
        visitor_id=visitor_id, defaults={"customer": customer}
    )
    if not created:
        return 0
    copied = 0
    states = ConsentState.objects.filter(visitor_id=visitor_id, customer__isnull=True)
    for state in states.select_related("purpose", "last_event__wording").order_by("purpose_id"):
        if consent_set(
            purpose=state.purpose,
            granted=state.status == Status.GRANTED,
            source=Source.COOKIE_BANNER,
            customer=customer,
            evidence=Evidence(wording=state.last_event.wording.text),
        ):
            copied += 1
    return copied
