"""Export and erasure of what the privacy_requests app holds about a person.

The record that a request was received and answered (reference, kind, dates, decision) is kept
as evidence that the shop met its duties; everything personal in it goes: what was asked,
changes, uploaded documents, disclosure packages, free-text notes, and (once the final notice
has been sent) the requester's contact details.
"""

from __future__ import annotations

import datetime
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from apps.core.dates import add_years
from apps.core.db import write_together
from apps.core.privacy import Column, ErasureReport, Section, declared_sections, register
from apps.privacy_requests.models import (
    CLOSED_STATUSES,
    Channel,
    IdentityDocument,
    Kind,
    Law,
    Notice,
    Outcome,
    PrivacyRequest,
    RequesterType,
    RequestEvent,
    Status,
)

if TYPE_CHECKING:
    from apps.customers.models import Customer

REQUEST_FIELDS = (
    "requester_name",
    "requester_email",
    "requester_postal_address",
    "representative_name",
    "details",
    "requested_changes",
    "applied_changes",
    "package",
    "answer",
    # Staff's words to the requester, which may describe what was searched for or found.
    "decision_reasons",
    "extension_reasons",
    "alternative_measure",
    # A non-member's download link and its code (hashes): the erasure ends the link too.
    "link_token_hash",
    "link_code_hash",
)
CONTACT_FIELDS = REQUEST_FIELDS[:4]
CONTENT_FIELDS = REQUEST_FIELDS[4:]
DOCUMENT_FIELDS = ("file", "document_type", "issued_on")
# Steps whose note staff write freely (the others hold labels and counts only).
FREE_TEXT_STEPS = (RequestEvent.Step.WITHDRAWN, RequestEvent.Step.FEE_RECORDED)
# Each content field's empty value: the JSON ones hold an empty object, and a refusal keeps a
# dash for its reasons (a database check requires reasons on every refusal).
EMPTY = {
    **{name: {} if name.endswith("_changes") else "" for name in CONTENT_FIELDS},
    "decision_reasons": "—",
    # As the reasons: a database check requires the measure on an "alternative measure" answer.
    "alternative_measure": "—",
}
# Emptied to a dash, not to "": either counts as empty.
DASHED = ("decision_reasons", "alternative_measure")


def _profile_columns() -> tuple[Column, ...]:
    """A correction names the person's profile fields: labelled as the customers app labels
    them (looked up when shown, every app being registered by then)."""
    return next(
        (s.columns for name, s in declared_sections() if (name, s.key) == ("customers", "profile")),
        (),
    )


REFERENCE = Column("reference", _("Request reference"))

REQUESTS = Section(
    "requests",
    pgettext_lazy("disclosure page section", "Your requests"),
    (
        REFERENCE,
        Column("kind", _("Kind of request"), choices=Kind),
        Column("law", _("Law"), choices=Law),
        Column("channel", _("Received through"), choices=Channel),
        Column("requester_type", _("Requested by"), choices=RequesterType),
        Column("status", _("Status"), choices=Status),
        Column("received_at", _("Received at")),
        Column("due_on", _("Answer due by")),
        Column("outcome", _("Outcome"), choices=Outcome),
        Column("decision_reasons", _("Reasons given")),
        Column("closed_at", _("Closed at")),
        Column("details", _("What you asked")),
        Column("requested_changes", _("Changes you asked for"), columns=_profile_columns),
        Column(
            "applied_changes",
            _("Changes made (before → after)"),
            columns=_profile_columns,
            before_after=True,
        ),
    ),
    _("Your requests about your personal data, this one included."),
)
TIMELINE = Section(
    "timeline",
    pgettext_lazy("disclosure page section", "Request timeline"),
    (
        REFERENCE,
        Column("step", _("Step"), choices=RequestEvent.Step),
        Column("at", _("Date and time")),
    ),
    _("Each step in handling your requests."),
)


def export(customer_id: int) -> list[Section]:
    requests = PrivacyRequest.objects.filter(customer_id=customer_id).order_by("received_at")
    events = RequestEvent.objects.filter(privacy_request__customer_id=customer_id).order_by(
        "at", "pk"
    )
    return [
        REQUESTS.with_rows(
            requests.values(
                "reference",
                "kind",
                "law",
                "channel",
                "requester_type",
                "status",
                "received_at",
                "due_on",
                "outcome",
                "decision_reasons",
                "closed_at",
                "details",
                "requested_changes",
                "applied_changes",
            )
        ),
        TIMELINE.with_rows(
            {"reference": e.privacy_request.reference, "step": e.step, "at": e.at}
            for e in events.select_related("privacy_request").only(
                "step", "at", "privacy_request__reference"
            )
        ),
    ]


def _record_hold_until() -> datetime.date:
    return add_years(timezone.localdate(), settings.PRIVACY_REQUEST_RECORD_YEARS)


def erase(person: Customer, *, dry_run: bool = False) -> ErasureReport:
    """Three statements, whatever there is to empty: one read of the requests, one of the
    documents, and one statement for every write (notes, documents, requests)."""
    return _erase([person.pk], dry_run=dry_run)


def erase_many(people: list[Customer], *, dry_run: bool = False) -> ErasureReport:
    """`erase` for a batch of people (the retention job): the same statements over all of
    their requests."""
    return _erase([person.pk for person in people], dry_run=dry_run)


def _erase(customer_ids: list[int], *, dry_run: bool) -> ErasureReport:
    from apps.privacy_requests.services.retention import _delete_files_on_commit

    report = ErasureReport()
    notices = Notice.objects.filter(privacy_request=OuterRef("pk"))
    has_content = reduce(
        or_,
        (~Q(**{name: value}) for name, value in EMPTY.items() if name not in DASHED),
    ) | reduce(or_, (~Q(**{f"{name}__in": ["", "—"]}) for name in DASHED))
    # Contact details stay while a notice is still to be sent (the erasure's own completion
    # notice among them); the notice task erases them after the last one.
    contact_done = (
        Q(status__in=CLOSED_STATUSES, contact_erased_at=None)
        & (
            ~Q(requester_name="")
            | ~Q(requester_email="")
            | ~Q(requester_postal_address="")
            | ~Q(representative_name="")
        )
        & Exists(notices)
        & ~Exists(notices.filter(sent_at=None))
    )
    requests = list(
        PrivacyRequest.objects.filter(customer_id__in=customer_ids)
        .annotate(
            has_content=ExpressionWrapper(has_content, output_field=BooleanField()),
            contact_done=ExpressionWrapper(contact_done, output_field=BooleanField()),
        )
        .values("pk", "customer_id", "package", "has_content", "contact_done", "kept_until")
    )
    documents = list(
        IdentityDocument.objects.filter(privacy_request__customer_id__in=customer_ids).values_list(
            "pk", "file"
        )
    )
    notes = RequestEvent.objects.filter(
        privacy_request__customer_id__in=customer_ids, step__in=FREE_TEXT_STEPS
    ).exclude(note="")
    content_ids = {r["pk"] for r in requests if r["has_content"]}
    contact_ids = {r["pk"] for r in requests if r["contact_done"]}
    report.deleted["privacy_requests.IdentityDocument"] = len(documents)
    report.anonymised["privacy_requests.PrivacyRequest"] = len(content_ids | contact_ids)
    # The date the notice promises is the date the record goes (retention.py
    # "privacy_request_records"): kept on each request, so a second erasure does not move it.
    # Each person's own date (a batch of the retention job holds several people).
    promised: dict[int, datetime.date] = {}
    for r in requests:
        if r["kept_until"]:
            promised[r["customer_id"]] = min(
                promised.get(r["customer_id"], r["kept_until"]), r["kept_until"]
            )
    new_hold = _record_hold_until()
    holds = {r["customer_id"]: promised.get(r["customer_id"], new_hold) for r in requests}
    if requests:
        report.kept["privacy_requests.PrivacyRequest"] = (
            len(requests),
            gettext_noop(
                "The record that your requests were received and answered (reference, kind, "
                "dates, decision), without their contents, as evidence that we met our duties."
            ),
            max(holds.values()),
        )
    if dry_run:
        report.anonymised["privacy_requests.RequestEvent"] = notes.count()
        return report

    _delete_files_on_commit(
        [file for _, file in documents if file] + [r["package"] for r in requests if r["package"]]
    )
    writes: list = [(notes, {"note": ""})]
    if documents:  # nothing points at a document
        writes.append(IdentityDocument.objects.filter(pk__in=[pk for pk, _ in documents]))
    emptied = _emptied(requests, content_ids=content_ids, contact_ids=contact_ids, holds=holds)
    if emptied:
        touched = content_ids | contact_ids | {r["pk"] for r in requests if not r["kept_until"]}
        writes.append((PrivacyRequest.objects.filter(pk__in=sorted(touched)), emptied))
    # One statement: the notes, the documents and the requests are rows of different tables.
    report.anonymised["privacy_requests.RequestEvent"] = write_together(*writes)[0]
    return report


def _emptied(
    requests: list[dict],
    *,
    content_ids: set[int],
    contact_ids: set[int],
    holds: dict[int, datetime.date],
) -> dict:
    """The one update of the requests, each of its fields as a CASE over the rows: the
    contents of those with content emptied, the contact details of those whose notices are all
    sent emptied, and the record's date set where none was (each person's own date, kept once
    set: a second erasure does not move it); every other value stays as it is."""
    model = PrivacyRequest._meta

    def where(ids: set[int], name: str, value) -> Case:
        then = Value(value, output_field=model.get_field(name))
        return Case(When(pk__in=sorted(ids), then=then), default=F(name))

    values: dict = {}
    if content_ids:
        values.update({name: where(content_ids, name, value) for name, value in EMPTY.items()})
    if contact_ids:
        values.update({name: where(contact_ids, name, "") for name in CONTACT_FIELDS})
        values["contact_erased_at"] = where(contact_ids, "contact_erased_at", timezone.now())
    unset: dict[datetime.date, set[int]] = {}
    for r in requests:
        if r["kept_until"] is None:
            unset.setdefault(holds[r["customer_id"]], set()).add(r["customer_id"])
    if unset:  # one date for everyone new
        field = model.get_field("kept_until")
        values["kept_until"] = Case(
            *(
                When(customer_id__in=sorted(people), kept_until=None, then=Value(day, field))
                for day, people in sorted(unset.items())
            ),
            default=F("kept_until"),
        )
    return values


register(
    "privacy_requests",
    exporter=export,
    eraser=erase,
    erase_many=erase_many,
    covers={
        "privacy_requests.PrivacyRequest": REQUEST_FIELDS,
        "privacy_requests.IdentityDocument": DOCUMENT_FIELDS,
        "privacy_requests.RequestEvent": ("note",),
    },
    sections=(REQUESTS, TIMELINE),
    runs_before=("customers",),
    labels={"privacy_requests.RequestEvent": _("staff notes on your requests")},
)
