"""Request records are purged at the "kept until" date the erasure notice promised (issue 15,
"Retention holes"): one day before, kept; the day after, gone with their timeline and notices."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from apps.core import retention
from apps.core.services import retention_run
from apps.privacy_requests import services
from apps.privacy_requests.models import Kind, Notice, PrivacyRequest, RequestEvent
from tests.privacy_requests.conftest import make_request
from tests.privacy_requests.test_carry_out import approve_and_carry_out

pytestmark = pytest.mark.django_db

RULE = "privacy_request_records"


def test_request_records_go_the_day_after_the_promised_date(
    person_with_order, officer, settings, django_capture_on_commit_callbacks
):
    settings.PRIVACY_REQUEST_RECORD_YEARS = 3
    customer, _ = person_with_order
    with django_capture_on_commit_callbacks(execute=True):
        older = make_request(customer, kind=Kind.STOP_OF_USE)
        services.privacy_request_withdraw(privacy_request=older, by=officer)
        pr = make_request(customer, kind=Kind.ERASURE)
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    older.refresh_from_db()
    promised = pr.erasure_report["kept"]["privacy_requests.PrivacyRequest"][2]
    assert pr.kept_until.isoformat() == promised == older.kept_until.isoformat()
    [completion] = [m for m in mail.outbox if "is complete" in m.subject]
    assert promised in completion.body

    other = make_request(None, kind=Kind.ERASURE)  # nobody on file, no promise: not this rule's
    ids = [pr.pk, older.pk]
    one_day = datetime.timedelta(days=1)
    assert retention_run(today=pr.kept_until - one_day)[RULE] == 0
    assert retention_run(today=pr.kept_until)[RULE] == 0  # "kept until" includes the day
    assert retention_run(today=pr.kept_until + one_day, dry_run=True)[RULE] == 2
    assert PrivacyRequest.objects.filter(pk__in=ids).count() == 2  # a dry run changes nothing
    assert retention_run(today=pr.kept_until + one_day)[RULE] == 2
    assert not PrivacyRequest.objects.filter(pk__in=ids).exists()
    assert not RequestEvent.objects.filter(privacy_request_id__in=ids).exists()
    assert not Notice.objects.filter(privacy_request_id__in=ids).exists()
    assert PrivacyRequest.objects.filter(pk=other.pk).exists()
    assert retention_run(today=pr.kept_until + one_day)[RULE] == 0


def test_the_rule_is_registered_and_described():
    rule = next(r for r in retention.rules() if r.name == RULE)
    assert "kept until" in rule.description


def test_rows_of_other_apps_pointing_at_the_record_go_with_it(customer, officer):
    """A connected system's propagation task names the request (a PROTECT key): the purge
    removes it with the request instead of failing."""
    from apps.integration.outbound.models import DownstreamSystem, PropagationTask

    pr = make_request(customer, kind=Kind.ERASURE)
    system = DownstreamSystem.objects.create(
        name="Carrier (by phone)",
        kind=DownstreamSystem.Kind.CARRIER,
        reached_by=DownstreamSystem.Reach.MANUAL,
        holds_every_customer=True,
    )
    PropagationTask.objects.create(
        system=system,
        privacy_request_id=pr.pk,
        customer_id=customer.pk,
        action=PropagationTask.Action.ERASURE,
        state=PropagationTask.State.DONE,
    )
    kept_until = timezone.localdate()
    PrivacyRequest.objects.filter(pk=pr.pk).update(kept_until=kept_until)
    assert retention_run(today=kept_until + datetime.timedelta(days=1))[RULE] == 1
    assert not PrivacyRequest.objects.filter(pk=pr.pk).exists()
    assert not PropagationTask.objects.filter(privacy_request_id=pr.pk).exists()
    assert DownstreamSystem.objects.filter(pk=system.pk).exists()
