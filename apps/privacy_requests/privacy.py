"""Export and erasure of what the privacy_requests app holds about a person.

The record that a request was received and answered (reference, kind, dates, decision) is kept
as evidence that the shop met its duties; everything personal in it goes: what was asked,
changes, uploaded documents, disclosure packages, free-text notes, and (once the final notice
has been sent) the requester's contact details.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.core.dates import add_years
from apps.core.privacy import ErasureReport, register
from apps.privacy_requests.models import (
    CLOSED_STATUSES,
    IdentityDocument,
    PrivacyRequest,
    RequestEvent,
)

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
)
CONTACT_FIELDS = REQUEST_FIELDS[:4]
CONTENT_FIELDS = REQUEST_FIELDS[4:]
DOCUMENT_FIELDS = ("file", "document_type", "issued_on")
# Steps whose note staff write freely (the others hold labels and counts only).
FREE_TEXT_STEPS = (RequestEvent.Step.WITHDRAWN, RequestEvent.Step.FEE_RECORDED)
EMPTY = {
    "details": "",
    "requested_changes": {},
    "applied_changes": {},
    "package": "",
    "answer": "",
}


def export(customer_id: int) -> dict[str, list[dict]]:
    requests = PrivacyRequest.objects.filter(customer_id=customer_id).order_by("received_at")
    events = RequestEvent.objects.filter(privacy_request__customer_id=customer_id).order_by(
        "at", "pk"
    )
    return {
        "requests": list(
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
        "timeline": [
            {"reference": e.privacy_request.reference, "step": e.step, "at": e.at}
            for e in events.select_related("privacy_request").only(
                "step", "at", "privacy_request__reference"
            )
        ],
    }


def _record_hold_until() -> datetime.date:
    return add_years(timezone.localdate(), settings.PRIVACY_REQUEST_RECORD_YEARS)


def erase(customer_id: int, *, dry_run: bool = False) -> ErasureReport:
    from apps.privacy_requests.services.retention import _delete_files_on_commit

    report = ErasureReport()
    requests = PrivacyRequest.objects.filter(customer_id=customer_id)
    documents = IdentityDocument.objects.filter(privacy_request__customer_id=customer_id)
    with_content = requests.filter(
        ~Q(details="")
        | ~Q(requested_changes={})
        | ~Q(applied_changes={})
        | ~Q(package="")
        | ~Q(answer="")
    )
    # Contact details stay while a notice is still to be sent (the erasure's own completion
    # notice among them); the notice task erases them after the last one.
    contact_done = (
        requests.filter(status__in=CLOSED_STATUSES, contact_erased_at=None)
        .exclude(notices__sent_at=None)
        .filter(
            ~Q(requester_name="")
            | ~Q(requester_email="")
            | ~Q(requester_postal_address="")
            | ~Q(representative_name="")
        )
    )
    notes = RequestEvent.objects.filter(
        privacy_request__customer_id=customer_id, step__in=FREE_TEXT_STEPS
    ).exclude(note="")

    report.deleted["privacy_requests.IdentityDocument"] = documents.count()
    content_ids = list(with_content.values_list("pk", flat=True))
    contact_ids = list(contact_done.values_list("pk", flat=True))
    report.anonymised["privacy_requests.PrivacyRequest"] = len(set(content_ids) | set(contact_ids))
    report.anonymised["privacy_requests.RequestEvent"] = notes.count()
    kept = requests.count()
    if kept:
        report.kept["privacy_requests.PrivacyRequest"] = (
            kept,
            "The record that your requests were received and answered (reference, kind, "
            "dates, decision), without their contents, as evidence that we met our duties.",
            _record_hold_until(),
        )
    if dry_run:
        return report

    files = list(documents.exclude(file="").values_list("file", flat=True))
    files += list(requests.exclude(package="").values_list("package", flat=True))
    _delete_files_on_commit(files)
    documents.delete()
    PrivacyRequest.objects.filter(pk__in=content_ids).update(**EMPTY)
    PrivacyRequest.objects.filter(pk__in=contact_ids).update(
        **dict.fromkeys(CONTACT_FIELDS, ""), contact_erased_at=timezone.now()
    )
    notes.update(note="")
    return report


register(
    "privacy_requests",
    exporter=export,
    eraser=erase,
    covers={
        "privacy_requests.PrivacyRequest": REQUEST_FIELDS,
        "privacy_requests.IdentityDocument": DOCUMENT_FIELDS,
        "privacy_requests.RequestEvent": ("note",),
    },
    order=50,
)
