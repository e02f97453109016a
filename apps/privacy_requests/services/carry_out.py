"""Carrying out an approved request: corrections, erasure, restrictions and disclosure.

Staff start it (`privacy_request_carry_out`); a Celery task then calls `privacy_request_execute`,
which re-reads and locks the request and does nothing unless it is still being carried out, so
a duplicated or retried task changes nothing more. Other apps' data is only ever reached
through the personal-data registry (apps.core.privacy).
"""

from __future__ import annotations

import datetime
import io
import logging
import secrets
import tempfile
import zipfile
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core import completion
from apps.core.durable import durable_enqueue, job_is_running, job_latest, job_retry
from apps.core.locks import PersonLocks, person_lock
from apps.core.privacy import (
    ErasureReport,
    RestrictionScope,
    Section,
    personal_data_erase,
    personal_data_lock,
    personal_data_restrict,
    personal_data_sections,
    sections_as_data,
)
from apps.privacy_requests.models import (
    CHANGE_KINDS,
    DISCLOSURE_KINDS,
    ERASURE_KINDS,
    RESTRICTION_KINDS,
    DisclosureForm,
    Kind,
    Notice,
    PrivacyRequest,
    RequestEvent,
    Status,
)
from apps.privacy_requests.services.package_files import (
    text_member,
    write_machine_readable,
    write_page,
)
from apps.privacy_requests.services.workflow import (
    event_add,
    lock,
    notice_queue,
    transition,
)
from apps.privacy_requests.storage import private_storage

if TYPE_CHECKING:
    from apps.customers.models import User

logger = logging.getLogger(__name__)

Step = RequestEvent.Step

# Answered the same for everyone (from the Purpose table): no person on file is needed.
NO_PERSON_KINDS = {Kind.PURPOSE_NOTIFICATION}
DOWNLOAD_SALT = "privacy_requests.download"


@transaction.atomic
def privacy_request_carry_out(*, privacy_request: PrivacyRequest, by: User) -> PrivacyRequest:
    from apps.privacy_requests.tasks import privacy_request_execute_task

    privacy_request = lock(privacy_request)
    if privacy_request.customer_id is None and privacy_request.kind not in NO_PERSON_KINDS:
        raise ValidationError(
            _("Nobody on file matches this request: answer “no data held” instead.")
        )
    from apps.privacy_requests.selectors import erasure_blocked_by

    if others := erasure_blocked_by(privacy_request=privacy_request):
        raise ValidationError(
            _(
                "This person's other requests are still open (%(references)s): answer, "
                "reject or withdraw them first, since the erasure empties them."
            )
            % {"references": ", ".join(others)}
        )
    transition(privacy_request, Status.CARRYING_OUT, step=Step.CARRY_OUT_STARTED, by=by)
    durable_enqueue(privacy_request_execute_task, privacy_request.pk)
    return privacy_request


def _execution_running(privacy_request: PrivacyRequest) -> bool:
    from apps.privacy_requests.tasks import privacy_request_execute_task

    job = job_latest(privacy_request_execute_task, privacy_request.pk)
    return job is not None and job_is_running(job)


def carry_out_again_allowed(privacy_request: PrivacyRequest) -> bool:
    """A request stuck in `carrying_out` (its task lost, or given up after failures) can be
    run again, unless a run holds it now. Completed by hand (post) requests have no run."""
    return privacy_request.status == Status.CARRYING_OUT and not _execution_running(privacy_request)


@transaction.atomic
def privacy_request_carry_out_again(*, privacy_request: PrivacyRequest, by: User) -> PrivacyRequest:
    """Staff's "carry out again": run the execution of a request that is still being carried
    out once more, now. Refused while a run is going; running it twice changes nothing more
    (privacy_request_execute re-checks everything under the person's locks)."""
    from apps.privacy_requests.tasks import privacy_request_execute_task

    privacy_request = lock(privacy_request)
    if privacy_request.status != Status.CARRYING_OUT:
        raise ValidationError(_("Only a request being carried out can be carried out again."))
    if _execution_running(privacy_request):
        raise ValidationError(_("It is being carried out right now: wait for this run to end."))
    job = job_latest(privacy_request_execute_task, privacy_request.pk)
    if job is not None and job.state != job.State.DONE:
        job_retry(job=job, by=by)
    else:
        durable_enqueue(privacy_request_execute_task, privacy_request.pk)
    event_add(privacy_request=privacy_request, step=Step.CARRY_OUT_STARTED, by=by, note=_("again"))
    logger.info("privacy request carried out again request_id=%s", privacy_request.pk)
    return privacy_request


def privacy_request_execute(*, privacy_request_id: int) -> bool:
    """Do what was approved. Returns False when there was nothing (more) to do."""
    with transaction.atomic():
        privacy_request, locked = _lock_with_person(privacy_request_id)
        if privacy_request is None or privacy_request.status != Status.CARRYING_OUT:
            return False
        kind = privacy_request.kind
        if kind in CHANGE_KINDS:
            return _apply_changes(privacy_request)
        if kind in ERASURE_KINDS:
            # The gates hear of it before the erasers run: the systems holding a copy are
            # told the ids they know the person by, which the erasure empties.
            may_complete = _tell_gates(privacy_request, completion.ERASURE)
            report = personal_data_erase(customer_id=privacy_request.customer_id, locked=locked)
            privacy_request.erasure_report = erasure_report_as_json(report)
            _complete_or_wait(
                privacy_request, may_complete=may_complete, extra_fields=("erasure_report",)
            )
            return True
        if kind in RESTRICTION_KINDS:
            scope = (
                RestrictionScope.STOP_PROVISION
                if kind == Kind.STOP_OF_PROVISION
                else RestrictionScope.STOP_USE
            )
            result = personal_data_restrict(
                customer_id=privacy_request.customer_id, scope=scope, active=True
            )
            privacy_request.restriction_result = {"scope": scope, "changed": result}
            action = (
                completion.STOP_OF_PROVISION
                if scope == RestrictionScope.STOP_PROVISION
                else completion.STOP_OF_USE
            )
            _complete_or_wait(
                privacy_request,
                may_complete=_tell_gates(privacy_request, action),
                extra_fields=("restriction_result",),
            )
            return True
        if (
            kind in DISCLOSURE_KINDS
            and privacy_request.disclosure_form == DisclosureForm.ELECTRONIC
        ):
            _build_package(privacy_request)
            _complete(privacy_request, by=None)
            return True
        if kind == Kind.PURPOSE_NOTIFICATION and not privacy_request.answer:
            privacy_request.answer = purpose_notification_answer(language=privacy_request.language)
            privacy_request.save(update_fields=["answer", "updated_at"])
            if privacy_request.requester_email:
                _complete(privacy_request, by=None)  # the completion mail carries the answer
                return True
            return False  # by post: staff print the letter and complete it
    # Paper disclosure: staff post the answer and complete it.
    return False


def _lock_with_person(
    privacy_request_id: int,
) -> tuple[PrivacyRequest | None, PersonLocks | None]:
    """The request, locked after its person (apps/core/locks: customer, subscriptions,
    requests), since carrying it out locks the person too: an erasure, a correction or an
    unsubscribe of the same person waits its turn instead of deadlocking with it.

    An erasure locks the person the way the erasers need them (every subscription and request
    of theirs, apps.core.privacy.personal_data_lock), once: the request is one of those rows,
    and the locks are returned for ``personal_data_erase(locked=…)``."""
    found = (
        PrivacyRequest.objects.filter(pk=privacy_request_id)
        .values_list("customer_id", "kind")
        .first()
    )
    customer_id, kind = found or (None, None)
    if customer_id is None:  # no such request, or nobody on file (a purpose notification)
        request = PrivacyRequest.objects.select_for_update().filter(pk=privacy_request_id).first()
        return request, None
    if kind in ERASURE_KINDS:
        locked = personal_data_lock(customer_id=customer_id)
        request = next((r for r in locked.requests if r.pk == privacy_request_id), None)
        return request, locked
    locked = person_lock(
        customer_id=customer_id, requests=PrivacyRequest.objects.filter(pk=privacy_request_id)
    )
    return (locked.requests[0] if locked.requests else None), None


def purpose_notification_answer(*, language: str) -> str:
    """APPI Art. 32(2): the purposes of use, from the Purpose table, in the requester's
    language (Japanese or English)."""
    from apps.consents.selectors import purposes_active

    with translation.override(language):
        return render_to_string(
            "privacy_requests/purpose_answer.txt", {"purposes": list(purposes_active())}
        ).strip()


def _complete(
    privacy_request: PrivacyRequest,
    *,
    by: User | None,
    note: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Close the request (saving `extra_fields` with its status) and queue the final notice."""
    transition(
        privacy_request,
        Status.COMPLETED,
        step=Step.COMPLETED,
        by=by,
        note=note,
        extra_fields=extra_fields,
    )
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.COMPLETION)


def _tell_gates(privacy_request: PrivacyRequest, action: str, *, changes=None) -> bool:
    """Tell the apps that gate completion (apps/core/completion.py) what was carried out; True
    when nothing they started is left open."""
    return completion.request_carried_out(
        completion.CarriedOut(
            request_id=privacy_request.pk,
            action=action,
            customer_id=privacy_request.customer_id,
            due_on=privacy_request.due_on,
            changes=changes or {},
        )
    )


def _complete_or_wait(
    privacy_request: PrivacyRequest,
    *,
    may_complete: bool,
    note: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Complete now, or save what was done and stay "being carried out" until every gate is
    open: the gate then calls ``privacy_request_complete_when_open`` through the port."""
    if may_complete:
        _complete(privacy_request, by=None, note=note, extra_fields=extra_fields)
        return
    if extra_fields:
        privacy_request.save(update_fields=[*extra_fields, "updated_at"])
    # The timeline says why the request is still open: done here, not yet by every system that
    # holds a copy (their tasks are listed on the request's page).
    event_add(privacy_request=privacy_request, step=Step.WAITING_FOR_SYSTEMS, by=None, note=note)
    logger.info("privacy request waits for its gates request_id=%s", privacy_request.pk)


def privacy_request_complete_when_open(request_id: int) -> bool:
    """The completer of apps/core/completion.py: complete a request still being carried out
    once every gate is open (a gate calls this when its last piece of work is done). Returns
    False, changing nothing, when it is not waiting or a gate is still closed."""
    with transaction.atomic():
        privacy_request = PrivacyRequest.objects.select_for_update().filter(pk=request_id).first()
        if privacy_request is None or privacy_request.status != Status.CARRYING_OUT:
            return False
        if not completion.request_may_complete(request_id=request_id):
            return False
        _complete(privacy_request, by=None)
    return True


@transaction.atomic
def privacy_request_complete(
    *, privacy_request: PrivacyRequest, by: User, answer: str = ""
) -> PrivacyRequest:
    """Staff finish a request answered by post (paper disclosure, a purpose notification to a
    postal address); a purpose notification keeps the generated answer unless staff replace it."""
    privacy_request = lock(privacy_request)
    manual = privacy_request.kind == Kind.PURPOSE_NOTIFICATION or (
        privacy_request.disclosure_form == DisclosureForm.PAPER
    )
    if not manual:
        raise ValidationError(_("This request is completed by its task, not by hand."))
    answer = answer.strip() or privacy_request.answer
    if privacy_request.kind == Kind.PURPOSE_NOTIFICATION and not answer:
        raise ValidationError({"answer": _("Write the answer that is sent to the requester.")})
    privacy_request.answer = answer
    privacy_request.save(update_fields=["answer", "updated_at"])
    _complete(privacy_request, by=by)
    return privacy_request


# ------------------------------------------------------------------ correction and addition


def _apply_changes(privacy_request: PrivacyRequest) -> bool:
    from apps.customers.services import customer_correct
    from apps.privacy_requests.services.corrections import changes_apply_scoped, changes_split

    customer = privacy_request.customer
    # The profile's fields, and the addresses' and orders' (services/corrections.py).
    changes, addresses, orders = changes_split(privacy_request.requested_changes)
    # What changed is read back from the customer: a member's new address is only sent a
    # link (their login moves when it is opened), so their e-mail is not among the changes.
    before = {name: getattr(customer, name) for name in changes}
    moves_login = False
    try:
        # The same services and validation as My Page, in a savepoint: all fields or none.
        with transaction.atomic():
            if changes:
                customer, moves_login = customer_correct(customer=customer, changes=changes)
            scoped = changes_apply_scoped(
                customer=customer, addresses=addresses, orders=orders, dry_run=False
            )
    except ValidationError as exc:
        transition(
            privacy_request,
            Status.REVIEW,
            step=Step.CARRY_OUT_FAILED,
            by=None,
            note=" ".join(exc.messages),
        )
        return False
    applied = {}
    for name, old in before.items():
        new = getattr(customer, name)
        if old != new:
            applied[name] = [_jsonable(old), _jsonable(new)]
    # The connected systems are told of the profile's new values (the fields they know).
    new_values = {name: new for name, (_old, new) in applied.items()}
    applied.update(scoped)
    privacy_request.applied_changes = applied
    privacy_request.save(update_fields=["applied_changes", "updated_at"])
    note = ", ".join(sorted(applied))  # field names only
    if moves_login:
        note = " ".join(
            filter(None, [note, _("E-mail: a confirmation link was sent to the new address.")])
        )
    _complete_or_wait(
        privacy_request,
        may_complete=_tell_gates(privacy_request, completion.CORRECTION, changes=new_values),
        note=note,
    )
    return True


def _jsonable(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else value


# ------------------------------------------------------------------ erasure


def erasure_report_as_json(report: ErasureReport) -> dict:
    return {
        "deleted": report.deleted,
        "anonymised": report.anonymised,
        "kept": {
            label: [count, why, until.isoformat() if until else None]
            for label, (count, why, until) in report.kept.items()
        },
    }


# ------------------------------------------------------------------ disclosure


def disclosure_package_write(
    *, customer_id: int, privacy_request: PrivacyRequest, out: BinaryIO
) -> None:
    """A zip of everything held about the person, written to `out` (a file) member by member:
    JSON and CSV for machines, each written piece by piece rather than built as one string, and
    HTML to read (`package` tells the page that the machine-readable copies are beside it)."""
    from apps.privacy_requests.selectors import disclosure_scope

    sections: list[tuple[str, Section]] = personal_data_sections(customer_id=customer_id)
    scope = disclosure_scope(kind=privacy_request.kind)
    if scope is not None:  # e.g. the provision records only (APPI Art. 33(5))
        sections = [(app, section) for app, section in sections if (app, section.key) in scope]
    data = sections_as_data(sections)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        write_machine_readable(archive, sections=sections, data=data)
        with (
            translation.override(privacy_request.language),
            text_member(archive, "index.html") as member,
        ):
            write_page(member, data=data, privacy_request=privacy_request)


def disclosure_package_bytes(*, customer_id: int, privacy_request: PrivacyRequest) -> bytes:
    """`disclosure_package_write` into bytes (small packages, tests)."""
    buffer = io.BytesIO()
    disclosure_package_write(customer_id=customer_id, privacy_request=privacy_request, out=buffer)
    return buffer.getvalue()


def _build_package(privacy_request: PrivacyRequest) -> None:
    storage = private_storage()
    # Written to a temporary file and stored from it: the package is never one value in memory.
    with tempfile.TemporaryFile(suffix=".zip") as package:
        disclosure_package_write(
            customer_id=privacy_request.customer_id, privacy_request=privacy_request, out=package
        )
        package.seek(0)
        name = storage.save(
            f"disclosures/{privacy_request.pk}/{secrets.token_hex(16)}.zip", File(package)
        )
    old = privacy_request.package.name
    privacy_request.package = name
    privacy_request.package_expires_at = timezone.now() + datetime.timedelta(
        days=settings.PRIVACY_DISCLOSURE_LINK_DAYS
    )
    privacy_request.save(update_fields=["package", "package_expires_at", "updated_at"])
    if old:
        transaction.on_commit(lambda: storage.delete(old))


def download_token(*, privacy_request: PrivacyRequest) -> str:
    """A signed, expiring token naming the request and its current package (no personal data)."""
    return signing.dumps(
        {"r": privacy_request.pk, "p": privacy_request.package.name.rsplit("/", 1)[-1]},
        salt=DOWNLOAD_SALT,
    )


def download_check(*, privacy_request: PrivacyRequest, token: str) -> bool:
    if not privacy_request.package or privacy_request.package_expires_at is None:
        return False
    if privacy_request.package_expires_at <= timezone.now():
        return False
    try:
        payload = signing.loads(
            token,
            salt=DOWNLOAD_SALT,
            max_age=datetime.timedelta(days=settings.PRIVACY_DISCLOSURE_LINK_DAYS),
        )
    except signing.BadSignature:
        return False
    return payload == {
        "r": privacy_request.pk,
        "p": privacy_request.package.name.rsplit("/", 1)[-1],
    }
