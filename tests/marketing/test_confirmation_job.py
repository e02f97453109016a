"""The newsletter confirmation mail is durable work carrying the subscription id only: its link's
token is derived from the row, so a mail that waited for Redis or the mail server still works,
and an older link stops working when a new one is issued."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.durable import job_sweep
from apps.core.models import Job
from apps.marketing import services
from apps.marketing.models import Subscription
from apps.marketing.tasks import subscription_confirmation_task
from tests.faults import broker_at, closed_url
from tests.marketing.helpers import magazine

pytestmark = pytest.mark.django_db


def _token(message) -> str:
    link = next(line for line in message.body.splitlines() if "/newsletter/confirm/" in line)
    return link.rstrip("/").rsplit("/", 1)[1]


def test_the_confirmation_waits_as_a_job_of_ids_and_its_link_works_when_sent_later(
    mailoutbox, django_capture_on_commit_callbacks
):
    mag = magazine()
    with broker_at(closed_url()), django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscription_request(email="reader@example.com", magazine=mag)
    [job] = Job.objects.filter(task=subscription_confirmation_task.name)
    assert job.args == [subscription.pk] and job.state == Job.State.PENDING
    assert mailoutbox == []

    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        job_sweep()
    [message] = mailoutbox
    token = _token(message)
    assert token not in Subscription.objects.get(pk=subscription.pk).confirm_token_hash
    services.subscription_confirm(token=token)
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.ACTIVE


def test_a_new_link_replaces_the_old_one(mailoutbox, django_capture_on_commit_callbacks):
    mag = magazine()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_request(email="twice@example.com", magazine=mag)
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscription_request(email="twice@example.com", magazine=mag)
    old, new = (_token(message) for message in mailoutbox)
    assert old != new
    with pytest.raises(ValidationError):
        services.subscription_confirm(token=old)
    services.subscription_confirm(token=new)
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.ACTIVE
