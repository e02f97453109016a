"""A request left in `carrying_out` (its task lost to a broker outage or a dead worker) is
carried out by the sweep, and staff can press "carry out again"; a second run changes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.core import durable
from apps.core.durable import job_latest, job_sweep
from apps.core.models import Job
from apps.privacy_requests import services
from apps.privacy_requests.models import Kind, PrivacyRequest, RequestEvent, Status
from apps.privacy_requests.tasks import privacy_request_execute_task
from tests.faults import broker_at, closed_url
from tests.privacy_requests.conftest import make_request, to_review

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:privacy_requests_privacyrequest_changelist"


def _stuck(customer, officer, capture) -> PrivacyRequest:
    """Approved and started while Redis was down: `carrying_out`, its task never enqueued."""
    with capture(execute=True):
        pr = to_review(make_request(customer, kind=Kind.STOP_OF_USE), officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
    with broker_at(closed_url()), capture(execute=True):
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr = PrivacyRequest.objects.get(pk=pr.pk)
    assert pr.status == Status.CARRYING_OUT
    job = job_latest(privacy_request_execute_task, pr.pk)
    assert job.state == Job.State.PENDING and job.args == [pr.pk]
    return pr


def _page(client, pr) -> str:
    url = reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk])
    return client.get(url).content.decode()


def test_the_sweep_carries_out_a_request_whose_task_was_lost(
    customer, officer, django_capture_on_commit_callbacks
):
    pr = _stuck(customer, officer, django_capture_on_commit_callbacks)
    job = job_latest(privacy_request_execute_task, pr.pk)
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() >= 1
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    job.refresh_from_db()
    assert job.state == Job.State.DONE


def test_staff_carry_out_again_once_and_a_second_run_changes_nothing(
    client, customer, officer, django_capture_on_commit_callbacks
):
    pr = _stuck(customer, officer, django_capture_on_commit_callbacks)
    client.force_login(officer)
    assert "carry_out_again" in _page(client, pr)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST),
            {"action": "carry_out_again", "_selected_action": [pr.pk], "back_to_request": pr.pk},
        )
    assert response.status_code == 302
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    assert (
        pr.events.filter(step=RequestEvent.Step.CARRY_OUT_STARTED, actor_user=officer).count() == 2
    )
    assert "carry_out_again" not in _page(client, pr)

    # Running it once more (a duplicate message, a late sweep) changes nothing more.
    events = pr.events.count()
    assert services.privacy_request_execute(privacy_request_id=pr.pk) is False
    assert pr.events.count() == events
    with pytest.raises(ValidationError):
        services.privacy_request_carry_out_again(privacy_request=pr, by=officer)


def test_carry_out_again_is_refused_while_a_run_is_going(
    client, customer, officer, django_capture_on_commit_callbacks
):
    pr = _stuck(customer, officer, django_capture_on_commit_callbacks)
    job = job_latest(privacy_request_execute_task, pr.pk)
    assert durable._claim(job.pk, datetime.timedelta(minutes=11))  # a worker is on it
    client.force_login(officer)
    assert "carry_out_again" not in _page(client, pr)
    with pytest.raises(ValidationError, match="right now"):
        services.privacy_request_carry_out_again(privacy_request=pr, by=officer)
    assert PrivacyRequest.objects.get(pk=pr.pk).status == Status.CARRYING_OUT
