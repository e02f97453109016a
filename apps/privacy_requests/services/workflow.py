"""The request's life: the state machine, decisions, withdrawal (receipt is in receipt.py).

Every state change is one function, in one transaction, that writes its timeline row (and any
notice to the requester) beside the change.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.dates import add_months
from apps.core.durable import durable_enqueue
from apps.core.events import PRIVACY_REQUEST_COMPLETED, event_publish
from apps.privacy_requests.law import ART35_KINDS
from apps.privacy_requests.models import (
    FEE_KINDS,
    FeeStatus,
    Law,
    Notice,
    Outcome,
    PrivacyRequest,
    RequestEvent,
    Status,
)

if TYPE_CHECKING:
    from apps.customers.models import User

logger = logging.getLogger(__name__)

Step = RequestEvent.Step


class Move(NamedTuple):
    """A step taken on a request: from which statuses, and to which (none: it stays put)."""

    name: str  # the service's verb, and the name of the admin action that calls it
    sources: frozenset[str]
    targets: frozenset[str] = frozenset()
    by_staff: bool = True  # False: only the system takes it (no admin action of that name)


def _move(name, sources, targets=(), *, by_staff=True) -> Move:
    return Move(name, frozenset(sources), frozenset(targets), by_staff)


_ASKED = (Status.IDENTITY, Status.FEE, Status.REVIEW)
_BEFORE_CARRYING_OUT = (Status.RECEIVED, *_ASKED, Status.APPROVED)

# The state machine, one row per step. The transitions below are read from it, and so are the
# buttons on a request's admin page (the steps its status is a source of, in this order): a
# step is added, moved or removed here and nowhere else.
MOVES: tuple[Move, ...] = (
    _move("start_verification", [Status.RECEIVED], [Status.IDENTITY]),
    _move("send_code", [Status.IDENTITY]),
    _move("check_code", [Status.IDENTITY], [Status.FEE, Status.REVIEW]),
    _move("verify_documents", [Status.IDENTITY], [Status.FEE, Status.REVIEW]),
    _move("record_fee", [Status.FEE], [Status.REVIEW]),
    _move("approve", [Status.REVIEW], [Status.APPROVED]),
    _move("reject", _ASKED, [Status.REJECTED]),
    _move("answer_no_data", [Status.REVIEW], [Status.COMPLETED]),
    # APPI Art. 35: a stop of use, erasure or stop of provision answered by another measure.
    _move("take_alternative_measure", [Status.REVIEW], [Status.COMPLETED]),
    _move("carry_out", [Status.APPROVED], [Status.CARRYING_OUT]),
    _move("extend_deadline", [Status.REVIEW, Status.APPROVED]),  # for GDPR requests only
    # Carrying out waits on a worker: "carry out again" when it was lost or gave up.
    _move("carry_out_again", [Status.CARRYING_OUT]),
    _move("complete", [Status.CARRYING_OUT], [Status.COMPLETED]),
    _move("withdraw", _BEFORE_CARRYING_OUT, [Status.WITHDRAWN]),
    # Back to review only when a correction turns out not to pass validation any more.
    _move("carry_out_failed", [Status.CARRYING_OUT], [Status.REVIEW], by_staff=False),
)

# Anything not listed here is refused.
TRANSITIONS: dict[str, set[str]] = {
    status: {target for move in MOVES if status in move.sources for target in move.targets}
    for status in Status.values
}


def moves_from(status: str) -> list[str]:
    """The steps staff may take on a request in `status`, in the table's order."""
    return [move.name for move in MOVES if move.by_staff and status in move.sources]


class IllegalTransition(ValidationError):
    pass


def fee_applies(*, kind: str, law: str) -> bool:
    return law == Law.APPI and kind in FEE_KINDS


def due_date(received_at: datetime.datetime, law: str = Law.APPI) -> datetime.date:
    """APPI: the shop's configured number of days (after two weeks a requester may sue);
    GDPR: one month (Art. 12(3)). APPI always applies, so a GDPR request is due by the earlier
    of the two."""
    received = timezone.localdate(received_at)
    appi = received + datetime.timedelta(days=settings.PRIVACY_REQUEST_DUE_DAYS)
    if law == Law.GDPR:
        return min(appi, add_months(received, settings.PRIVACY_REQUEST_GDPR_DUE_MONTHS))
    return appi


def _actor(by: User | None) -> str:
    if by is None:
        return RequestEvent.Actor.SYSTEM
    return RequestEvent.Actor.STAFF if by.is_staff else RequestEvent.Actor.REQUESTER


def event_add(
    *, privacy_request: PrivacyRequest, step: str, by: User | None = None, note: str = ""
) -> RequestEvent:
    return RequestEvent.objects.create(
        privacy_request=privacy_request,
        step=step,
        actor=_actor(by),
        actor_user=by,
        note=note,
    )


def lock(privacy_request: PrivacyRequest | int) -> PrivacyRequest:
    pk = privacy_request if isinstance(privacy_request, int) else privacy_request.pk
    return PrivacyRequest.objects.select_for_update().get(pk=pk)


def transition(
    privacy_request: PrivacyRequest,
    to: str,
    *,
    step: str,
    by: User | None,
    note: str = "",
    extra_fields: tuple[str, ...] = (),
) -> PrivacyRequest:
    """Move a locked request to `to`, or refuse with a message staff and members understand."""
    current = privacy_request.status
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(
            _("A request that is “%(current)s” cannot become “%(target)s”.")
            % {"current": Status(current).label, "target": Status(to).label},
            code="illegal_transition",
        )
    if to == Status.FEE and privacy_request.fee_status != FeeStatus.PENDING:
        raise IllegalTransition(_("No fee is due for this request."), code="no_fee")
    privacy_request.status = to
    fields = ["status", "updated_at", *extra_fields]
    if to in (Status.REJECTED, Status.COMPLETED, Status.WITHDRAWN):
        privacy_request.closed_at = timezone.now()
        fields.append("closed_at")
    privacy_request.save(update_fields=fields)
    event_add(privacy_request=privacy_request, step=step, by=by, note=note)
    if to == Status.COMPLETED:
        # The storefront closes its own copy of the request (ids and outcome only).
        event_publish(
            PRIVACY_REQUEST_COMPLETED,
            customer_id=privacy_request.customer_id,
            data={"request_id": privacy_request.pk, "reference": privacy_request.reference,
                  "kind": privacy_request.kind, "outcome": privacy_request.outcome},
        )  # fmt: skip
    logger.info(
        "privacy request %s -> %s request_id=%s", current, to, privacy_request.pk
    )  # ids and states only
    return privacy_request


def notice_queue(*, privacy_request: PrivacyRequest, kind: str) -> int | None:
    """Write the notice row now, once per kind (a second decision after a correction went back
    to review mails nothing more). A durable job e-mails it once the transaction commits; a requester
    without an e-mail address gets it as a letter, which waits in the admin ("letters to post")
    until staff mark it posted. Returns the new notice's id, or None when it already existed.
    One statement: INSERT … ON CONFLICT DO NOTHING RETURNING, on PostgreSQL and SQLite alike."""
    from apps.privacy_requests.tasks import notice_send_task

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} "  # noqa: S608 (our table name)
            "(privacy_request_id, kind, created_at, sent_at) VALUES (%s, %s, %s, NULL) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [privacy_request.pk, kind, timezone.now()],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    if privacy_request.requester_email:
        durable_enqueue(notice_send_task, row[0])
    return row[0]


# ------------------------------------------------------------------ decisions


@transaction.atomic
def privacy_request_approve(
    *, privacy_request: PrivacyRequest, by: User, partial_refusal_reasons: str = ""
) -> PrivacyRequest:
    privacy_request = lock(privacy_request)
    reasons = (partial_refusal_reasons or "").strip()
    privacy_request.outcome = Outcome.PARTIAL if reasons else Outcome.FULL
    privacy_request.decision_reasons = reasons
    privacy_request.decided_at = timezone.now()
    transition(
        privacy_request,
        Status.APPROVED,
        step=Step.APPROVED,
        by=by,
        note=_("in part") if reasons else "",
        extra_fields=("outcome", "decision_reasons", "decided_at"),
    )
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.DECISION)
    return privacy_request


def _require_reasons(reasons: str) -> str:
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationError(
            {"reasons": _("Give the reasons: they are sent to the requester (APPI Art. 36).")}
        )
    return reasons


def _decide_without_carrying_out(
    privacy_request: PrivacyRequest, *, by: User, reasons: str, outcome: str, status: str, step: str
) -> PrivacyRequest:
    """A decision that ends the request with reasons the requester is sent."""
    reasons = _require_reasons(reasons)
    privacy_request = lock(privacy_request)
    privacy_request.outcome = outcome
    privacy_request.decision_reasons = reasons
    privacy_request.decided_at = timezone.now()
    transition(
        privacy_request,
        status,
        step=step,
        by=by,
        extra_fields=("outcome", "decision_reasons", "decided_at"),
    )
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.DECISION)
    return privacy_request


@transaction.atomic
def privacy_request_reject(
    *, privacy_request: PrivacyRequest, by: User, reasons: str
) -> PrivacyRequest:
    return _decide_without_carrying_out(
        privacy_request,
        by=by,
        reasons=reasons,
        outcome=Outcome.REJECTED,
        status=Status.REJECTED,
        step=Step.REJECTED,
    )


@transaction.atomic
def privacy_request_answer_no_data(
    *, privacy_request: PrivacyRequest, by: User, reasons: str
) -> PrivacyRequest:
    """We hold no data about this person: that is the answer, with what was searched."""
    return _decide_without_carrying_out(
        privacy_request,
        by=by,
        reasons=reasons,
        outcome=Outcome.NO_DATA,
        status=Status.COMPLETED,
        step=Step.NO_DATA,
    )


@transaction.atomic
def privacy_request_take_alternative_measure(
    *, privacy_request: PrivacyRequest, by: User, measure: str, reasons: str
) -> PrivacyRequest:
    """APPI Art. 35(2), (4), (6): where stopping the use, erasing or stopping the provision is
    difficult (it would cost a great deal, …), the shop may instead take a measure that
    protects the person's rights and interests. Staff record why (``reasons``) and what is done
    instead (``measure``); the decision notice tells both, and the request is complete."""
    measure = (measure or "").strip()
    if not measure:
        raise ValidationError(
            {"measure": _("Say what is done instead: it is sent to the requester.")}
        )
    reasons = _require_reasons(reasons)
    privacy_request = lock(privacy_request)
    if privacy_request.kind not in ART35_KINDS:
        raise ValidationError(
            _(
                "An alternative measure answers only a stop of use, an erasure or a stop of "
                "provision (APPI Art. 35)."
            )
        )
    privacy_request.outcome = Outcome.ALTERNATIVE
    privacy_request.decision_reasons = reasons
    privacy_request.alternative_measure = measure
    privacy_request.decided_at = timezone.now()
    transition(
        privacy_request,
        Status.COMPLETED,
        step=Step.ALTERNATIVE_MEASURE,
        by=by,
        extra_fields=("outcome", "decision_reasons", "alternative_measure", "decided_at"),
    )
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.DECISION)
    return privacy_request


@transaction.atomic
def privacy_request_record_in_eea(*, privacy_request: PrivacyRequest, by: User) -> PrivacyRequest:
    """Staff record that the person is in the EU/EEA (a letter from Germany, a phone call), as
    no address on file said: the GDPR applies as well (receipt.law_for). The request is then due
    by the earlier of the two deadlines, and no fee is due (one it waited for is dropped)."""
    privacy_request = lock(privacy_request)
    if not privacy_request.is_open:
        raise ValidationError(_("This request is closed."))
    if privacy_request.in_eea and privacy_request.law == Law.GDPR:
        return privacy_request
    privacy_request.in_eea = True
    privacy_request.law = Law.GDPR
    privacy_request.due_on = min(
        privacy_request.due_on, due_date(privacy_request.received_at, Law.GDPR)
    )
    fields = ["in_eea", "law", "due_on", "updated_at"]
    if privacy_request.fee_status == FeeStatus.PENDING:
        privacy_request.fee_status = FeeStatus.NOT_APPLICABLE
        privacy_request.fee_amount = 0
        fields += ["fee_status", "fee_amount"]
    privacy_request.save(update_fields=fields)
    event_add(
        privacy_request=privacy_request,
        step=Step.LAW_RECORDED,
        by=by,
        note=privacy_request.due_on.isoformat(),
    )
    if privacy_request.status == Status.FEE:
        transition(privacy_request, Status.REVIEW, step=Step.IN_REVIEW, by=by)
    return privacy_request


@transaction.atomic
def privacy_request_extend(
    *, privacy_request: PrivacyRequest, by: User, months: int, reasons: str
) -> PrivacyRequest:
    """GDPR Art. 12(3): extend the deadline once, by one or two months, telling the requester
    why before the first month is over. APPI has no such extension."""
    reasons = _require_reasons(reasons)
    privacy_request = lock(privacy_request)
    if privacy_request.law != Law.GDPR:
        raise ValidationError(_("Only a GDPR request's deadline can be extended."))
    if not privacy_request.is_open:
        raise ValidationError(_("This request is closed."))
    if privacy_request.extended_at is not None:
        raise ValidationError(_("The deadline can be extended only once."))
    if privacy_request.is_overdue:
        raise ValidationError(
            _("The deadline has passed: an extension must be notified before it.")
        )
    maximum = settings.PRIVACY_REQUEST_GDPR_MAX_EXTENSION_MONTHS
    if not 1 <= int(months) <= maximum:
        raise ValidationError({"months": _("Extend by 1 to %(max)d months.") % {"max": maximum}})
    privacy_request.due_on = add_months(privacy_request.due_on, int(months))
    privacy_request.extended_at = timezone.now()
    privacy_request.extension_reasons = reasons
    privacy_request.save(update_fields=["due_on", "extended_at", "extension_reasons", "updated_at"])
    # The note holds the new date only; the reasons are on the request and in the mail.
    event_add(
        privacy_request=privacy_request,
        step=Step.EXTENDED,
        by=by,
        note=privacy_request.due_on.isoformat(),
    )
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.EXTENSION)
    logger.info("privacy request deadline extended request_id=%s", privacy_request.pk)
    return privacy_request


@transaction.atomic
def privacy_request_withdraw(
    *, privacy_request: PrivacyRequest, by: User | None, note: str = ""
) -> PrivacyRequest:
    privacy_request = lock(privacy_request)
    transition(privacy_request, Status.WITHDRAWN, step=Step.WITHDRAWN, by=by, note=note)
    # The requester hears that we stopped, whoever recorded it (a letter to staff, My Page).
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.WITHDRAWAL)
    return privacy_request
