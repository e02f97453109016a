"""The request state machine: every legal transition, illegal ones refused, reasons required,
fees only where the law allows them, deadlines and references."""

import datetime
import re
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.privacy_requests import services
from apps.privacy_requests.models import (
    FeeStatus,
    Kind,
    Law,
    Notice,
    Outcome,
    PrivacyRequest,
    RequestEvent,
    Status,
)
from apps.privacy_requests.services.workflow import TRANSITIONS, transition
from tests.privacy_requests.conftest import make_request, to_review

pytestmark = pytest.mark.django_db

Step = RequestEvent.Step


def steps(privacy_request):
    return list(privacy_request.events.order_by("at", "pk").values_list("step", flat=True))


def test_receipt_numbers_dates_and_acknowledges(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(
            customer, kind=Kind.CORRECTION, requested_changes={"phone": "03-1111-2222"}
        )
    year = timezone.localdate().year
    assert re.fullmatch(rf"PR-{year}-\d{{6}}", pr.reference)
    assert pr.status == Status.RECEIVED
    assert pr.due_on == timezone.localdate() + datetime.timedelta(days=14)
    assert steps(pr) == [Step.RECEIVED, Step.NOTICE_SENT]
    [receipt] = mail.outbox
    assert receipt.to == [customer.email] and pr.reference in receipt.subject
    assert pr.due_on.isoformat() in receipt.body
    assert Notice.objects.get(privacy_request=pr, kind="receipt").sent_at is not None


def test_references_are_sequential_per_year(customer):
    first = make_request(customer)
    second = make_request(customer)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1
    last_year = timezone.now() - datetime.timedelta(days=366)
    old = make_request(customer, received_at=last_year)
    assert old.reference == f"PR-{timezone.localdate(last_year).year}-000001"


def test_due_days_come_from_the_setting(customer, settings):
    settings.PRIVACY_REQUEST_DUE_DAYS = 30
    received = timezone.now() - datetime.timedelta(days=3)
    pr = make_request(customer, received_at=received)
    assert pr.due_on == timezone.localdate(received) + datetime.timedelta(days=30)


def test_overdue_and_due_soon(customer):
    from apps.privacy_requests import selectors

    late = make_request(customer, received_at=timezone.now() - datetime.timedelta(days=15))
    soon = make_request(customer, received_at=timezone.now() - datetime.timedelta(days=12))
    fresh = make_request(customer)
    assert late.is_overdue and not late.is_due_soon
    assert soon.is_due_soon and not soon.is_overdue
    assert not fresh.is_overdue and not fresh.is_due_soon
    assert list(selectors.privacy_requests_overdue()) == [late]
    assert list(selectors.privacy_requests_due_soon()) == [soon]
    services.privacy_request_withdraw(privacy_request=late, by=None)
    assert not selectors.privacy_requests_overdue().exists()  # a closed request is not overdue


def test_a_future_receipt_date_is_refused(customer):
    with pytest.raises(ValidationError):
        make_request(customer, received_at=timezone.now() + datetime.timedelta(days=1))
    assert not PrivacyRequest.objects.exists()


@pytest.mark.parametrize(
    ("kind", "law", "fee"),
    [
        (Kind.PURPOSE_NOTIFICATION, Law.APPI, True),
        (Kind.DISCLOSURE, Law.APPI, True),
        (Kind.PROVISION_RECORDS, Law.APPI, True),
        (Kind.CORRECTION, Law.APPI, False),
        (Kind.ADDITION, Law.APPI, False),
        (Kind.DELETION, Law.APPI, False),
        (Kind.STOP_OF_USE, Law.APPI, False),
        (Kind.ERASURE, Law.APPI, False),
        (Kind.STOP_OF_PROVISION, Law.APPI, False),
        (Kind.DISCLOSURE, Law.GDPR, False),
        (Kind.GDPR_ACCESS, Law.GDPR, False),
        (Kind.GDPR_PORTABILITY, Law.GDPR, False),
        (Kind.GDPR_OBJECTION, Law.GDPR, False),
    ],
)
def test_fee_rules(customer, settings, kind, law, fee):
    settings.PRIVACY_REQUEST_FEE_YEN = 1000
    extra = (
        {"requested_changes": {"phone": "03-1111-2222"}}
        if kind in ("correction", "addition")
        else {}
    )
    pr = make_request(customer, kind=kind, in_eea=law == Law.GDPR, **extra)
    assert (pr.fee_status == FeeStatus.PENDING) is fee
    assert pr.fee_amount == (1000 if fee else 0)


def test_the_database_refuses_a_fee_for_a_correction(customer):
    pr = make_request(customer, kind=Kind.DELETION)
    with pytest.raises(IntegrityError), transaction.atomic():
        PrivacyRequest.objects.filter(pk=pr.pk).update(fee_status=FeeStatus.PENDING, fee_amount=1)


def test_gdpr_rights_need_the_gdpr(customer):
    with pytest.raises(ValidationError):
        make_request(customer, kind=Kind.GDPR_PORTABILITY)


def test_fee_path_received_to_completed(customer, officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(customer, kind=Kind.DISCLOSURE)
        pr = to_review(pr, officer)
        assert pr.status == Status.REVIEW and pr.fee_status == FeeStatus.RECEIVED
        pr = services.privacy_request_approve(privacy_request=pr, by=officer)
        assert pr.status == Status.APPROVED and pr.outcome == Outcome.FULL
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    assert [s for s in steps(pr) if s != Step.NOTICE_SENT][:8] == [
        Step.RECEIVED,
        Step.VERIFICATION_STARTED,
        Step.CODE_SENT,
        Step.IDENTITY_VERIFIED,
        Step.FEE_REQUESTED,
        Step.FEE_RECORDED,
        Step.IN_REVIEW,
        Step.APPROVED,
    ]
    assert {Step.CARRY_OUT_STARTED, Step.COMPLETED} <= set(steps(pr))
    kinds = set(Notice.objects.filter(privacy_request=pr).values_list("kind", flat=True))
    assert kinds == {"receipt", "decision", "completion"}


def test_a_request_without_fee_skips_the_fee_step(customer, officer):
    pr = to_review(make_request(customer, kind=Kind.STOP_OF_USE), officer)
    assert pr.status == Status.REVIEW
    assert Step.FEE_REQUESTED not in steps(pr)
    with pytest.raises(ValidationError):
        services.privacy_request_record_fee(privacy_request=pr, fee_status="received", by=officer)


def test_fee_waived(customer, officer):
    pr = make_request(customer, kind=Kind.PURPOSE_NOTIFICATION)
    services.privacy_request_start_verification(privacy_request=pr, by=officer)
    from tests.privacy_requests.conftest import send_code_and_read

    code = send_code_and_read(pr, officer)
    pr = services.privacy_request_check_code(privacy_request=pr, code=code, by=officer)
    assert pr.status == Status.FEE
    pr = services.privacy_request_record_fee(privacy_request=pr, fee_status="waived", by=officer)
    assert pr.status == Status.REVIEW and pr.fee_status == FeeStatus.WAIVED


def test_reject_needs_reasons_and_sends_them(customer, officer, django_capture_on_commit_callbacks):
    pr = to_review(make_request(customer, kind=Kind.DELETION), officer)
    with pytest.raises(ValidationError):
        services.privacy_request_reject(privacy_request=pr, by=officer, reasons="  ")
    pr.refresh_from_db()
    assert pr.status == Status.REVIEW
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_reject(
            privacy_request=pr, by=officer, reasons="Needed for an ongoing legal dispute."
        )
    pr.refresh_from_db()
    assert pr.status == Status.REJECTED and pr.outcome == Outcome.REJECTED and pr.closed_at
    [decision] = mail.outbox
    assert "Needed for an ongoing legal dispute." in decision.body


def test_no_data_held_needs_reasons_and_completes(officer, django_capture_on_commit_callbacks):
    pr = make_request(None, kind=Kind.DISCLOSURE)  # nobody on file
    services.privacy_request_start_verification(privacy_request=pr, by=officer)
    with pytest.raises(ValidationError):  # nobody to send a code to
        services.privacy_request_send_code(privacy_request=pr, by=officer)
    pr = PrivacyRequest.objects.get(pk=pr.pk)
    # Identity cannot be checked against anything: review directly through the transitions.
    with transaction.atomic():
        pr = services.privacy_request_record_fee(
            privacy_request=pr, fee_status="waived", by=officer
        )
        locked = PrivacyRequest.objects.select_for_update().get(pk=pr.pk)
        transition(locked, Status.REVIEW, step=Step.IN_REVIEW, by=officer)
    with pytest.raises(ValidationError):
        services.privacy_request_answer_no_data(privacy_request=pr, by=officer, reasons="")
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_answer_no_data(
            privacy_request=pr,
            by=officer,
            reasons="No customer, order or inquiry uses this address.",
        )
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED and pr.outcome == Outcome.NO_DATA
    assert "No customer, order or inquiry" in mail.outbox[-1].body


def test_partial_refusal_sends_reasons(customer, officer, django_capture_on_commit_callbacks):
    pr = to_review(make_request(customer, kind=Kind.DELETION), officer)
    with django_capture_on_commit_callbacks(execute=True):
        pr = services.privacy_request_approve(
            privacy_request=pr, by=officer, partial_refusal_reasons="Orders are tax records."
        )
    assert pr.outcome == Outcome.PARTIAL
    assert "Orders are tax records." in mail.outbox[-1].body


def test_the_database_refuses_a_refusal_without_reasons(customer):
    pr = make_request(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        PrivacyRequest.objects.filter(pk=pr.pk).update(outcome=Outcome.REJECTED)


@pytest.mark.parametrize(
    "start", [Status.RECEIVED, Status.IDENTITY, Status.FEE, Status.REVIEW, Status.APPROVED]
)
def test_withdrawal_from_every_open_step_before_carrying_out(customer, start):
    pr = make_request(customer, kind=Kind.DISCLOSURE)
    PrivacyRequest.objects.filter(pk=pr.pk).update(status=start)
    pr = services.privacy_request_withdraw(privacy_request=pr, by=customer.user)
    assert pr.status == Status.WITHDRAWN and pr.closed_at
    event = pr.events.get(step=Step.WITHDRAWN)
    assert event.actor == RequestEvent.Actor.REQUESTER and event.actor_user == customer.user


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (start, target)
        for start in Status.values
        for target in Status.values
        if target not in TRANSITIONS[start]
    ],
)
def test_every_illegal_transition_is_refused(customer, start, target):
    pr = make_request(customer, kind=Kind.DISCLOSURE)
    PrivacyRequest.objects.filter(pk=pr.pk).update(status=start)
    before = RequestEvent.objects.count()
    with pytest.raises(services.IllegalTransition) as refused, transaction.atomic():
        locked = PrivacyRequest.objects.select_for_update().get(pk=pr.pk)
        transition(locked, target, step=Step.IN_REVIEW, by=None)
    assert "cannot become" in refused.value.messages[0]
    pr.refresh_from_db()
    assert pr.status == start and RequestEvent.objects.count() == before


@pytest.mark.parametrize(
    ("start", "target"),
    [(start, target) for start, targets in TRANSITIONS.items() for target in targets],
)
def test_every_legal_transition_is_allowed(customer, start, target):
    pr = make_request(customer, kind=Kind.DISCLOSURE)  # has a pending fee, so FEE is allowed
    PrivacyRequest.objects.filter(pk=pr.pk).update(status=start)
    with transaction.atomic():
        locked = PrivacyRequest.objects.select_for_update().get(pk=pr.pk)
        transition(locked, target, step=Step.IN_REVIEW, by=None)
    pr.refresh_from_db()
    assert pr.status == target


def test_fee_step_refused_where_no_fee_applies(customer):
    pr = make_request(customer, kind=Kind.ERASURE)
    PrivacyRequest.objects.filter(pk=pr.pk).update(status=Status.IDENTITY)
    with pytest.raises(services.IllegalTransition), transaction.atomic():
        transition(
            PrivacyRequest.objects.get(pk=pr.pk), Status.FEE, step=Step.FEE_REQUESTED, by=None
        )


def test_service_level_illegal_steps(customer, officer):
    pr = make_request(customer, kind=Kind.ERASURE)
    for attempt in (
        lambda: services.privacy_request_approve(privacy_request=pr, by=officer),
        lambda: services.privacy_request_carry_out(privacy_request=pr, by=officer),
        lambda: services.privacy_request_reject(privacy_request=pr, by=officer, reasons="x"),
    ):
        with pytest.raises(ValidationError):
            attempt()
    services.privacy_request_withdraw(privacy_request=pr, by=customer.user)
    with pytest.raises(services.IllegalTransition):
        services.privacy_request_start_verification(privacy_request=pr, by=officer)


def test_the_timeline_is_append_only(customer):
    pr = make_request(customer)
    event = pr.events.get()
    event.note = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_correction_requests_are_validated_like_my_page(customer):
    with pytest.raises(ValidationError) as refused:
        make_request(customer, kind=Kind.CORRECTION, requested_changes={"phone": "12345"})
    assert "phone" in str(refused.value).lower()
    with pytest.raises(ValidationError):
        make_request(customer, kind=Kind.CORRECTION, requested_changes={"status": "active"})
    with pytest.raises(ValidationError):
        make_request(customer, kind=Kind.CORRECTION, requested_changes={})
    assert not PrivacyRequest.objects.exists()
    pr = make_request(
        customer, kind=Kind.CORRECTION, requested_changes={"family_name_kana": "たなか"}
    )
    assert pr.requested_changes == {"family_name_kana": "タナカ"}  # normalised like My Page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_references_stay_unique_under_concurrency(customer):
    references, errors = [], []

    def receive():
        try:
            references.append(make_request(customer).reference)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=receive) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(references)) == 8


def test_notices_speak_the_requesters_language(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_request(customer, kind=Kind.ERASURE, language="ja")
        make_request(customer, kind=Kind.ERASURE, language="en")
    ja, en = mail.outbox
    assert "受け付けました" in ja.subject and "消去" in ja.body
    assert "We received" in en.subject and "Erasure" in en.body


def test_in_japanese_a_request_is_withdrawn_not_a_consent():
    """Both read "Withdrawn" in English; in Japanese a request is 取下げ, a consent 撤回済み
    (the request's label has its own context, so the project catalogue cannot override it)."""
    from django.utils import translation

    from apps.consents.models import ConsentState

    with translation.override("ja"):
        assert str(Status.WITHDRAWN.label) == "取下げ"
        assert str(ConsentState.Status.WITHDRAWN.label) == "撤回済み"
