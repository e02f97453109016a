"""Reads for the storefront API: the consent check ("may we use this person for this purpose
now?"), answered from the consents current-state table in one indexed query."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Subquery

from apps.consents.models import ConsentState, PersonRestriction, Purpose
from apps.customers.models import Customer
from apps.integration.models import ApiClient, ExternalCustomer

Status = ConsentState.Status


@dataclass(frozen=True)
class ConsentAnswer:
    customer: str  # the client's external id
    customer_id: int
    allowed: bool
    status: str  # granted | withdrawn | pending | never_asked
    since: datetime.datetime | None


NEVER_ASKED = "never_asked"


def consents_check(
    *, client: ApiClient, external_ids: Sequence[str], purpose_code: str
) -> list[ConsentAnswer] | None:
    """May the shop use these people (by ``client``'s external ids) for the purpose ``purpose_code``
    now? One query, every table reached through a unique index: the external id, the customer,
    the purpose by its code, the current-state row for (customer, purpose), its last event, the
    person's restriction. None when there is no such (active) purpose; unknown external ids are
    left out of the answers, which follow the order of ``external_ids``.

    ``allowed``: an active customer without a stop of use and, for a purpose that needs opt-in,
    a current grant (as ``customers_who_may``); for a purpose that does not, no withdrawal (an
    opt-out the storefront's own mailers must respect too)."""
    purpose = Purpose.objects.filter(code=purpose_code, is_active=True).order_by()
    state = ConsentState.objects.filter(
        customer_id=OuterRef("customer_id"), purpose__code=purpose_code, purpose__is_active=True
    )
    stopped = PersonRestriction.objects.filter(customer_id=OuterRef("customer_id"), stop_use=True)
    rows = list(
        ExternalCustomer.objects.filter(client=client, external_id__in=list(external_ids))
        .annotate(
            customer_status=F("customer__status"),
            opt_in=Subquery(purpose.values("requires_opt_in")[:1]),
            state_status=Subquery(state.values("status")[:1]),
            since=Subquery(state.values("last_event__occurred_at")[:1]),
            stopped=Exists(stopped),
        )
        .values_list(
            "external_id",
            "customer_id",
            "customer_status",
            "opt_in",
            "state_status",
            "since",
            "stopped",
        )
    )
    # The purpose is known from any row; with no row, one more query tells.
    if (rows[0][3] is None) if rows else not purpose.exists():
        return None
    answers = []
    for external_id, customer_id, customer_status, opt_in, state_status, since, stopped in rows:
        usable = customer_status == Customer.Status.ACTIVE and not stopped
        consented = state_status == Status.GRANTED or (
            not opt_in and state_status != Status.WITHDRAWN
        )
        answers.append(
            ConsentAnswer(
                customer=external_id,
                customer_id=customer_id,
                allowed=usable and consented,
                status=state_status or NEVER_ASKED,
                since=since,
            )
        )
    order = {external_id: i for i, external_id in enumerate(external_ids)}
    answers.sort(key=lambda answer: order[answer.customer])
    return answers
