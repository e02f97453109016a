"""Durable work (apps/core/durable.py): rows written with the change, run on commit, retried with
backoff by the sweep, given up with a reason staff see, and run again by "try again now"."""

import datetime
import smtplib

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.bench.kit import free_port
from apps.core import durable, roles
from apps.core.durable import backoff, durable_enqueue, failure_reason, job_sweep
from apps.core.mail import MailRefused
from apps.core.models import Job
from apps.customers.models import Inquiry
from apps.customers.services import inquiry_create
from apps.customers.tasks import inquiry_acknowledge_task
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

ADDRESS = "waiting@example.com"


def _inquiry(capture, *, execute=True) -> Inquiry:
    with capture(execute=execute):
        return inquiry_create(name="田中 一郎", email=ADDRESS, topic="privacy", message="質問")


def _job() -> Job:
    return Job.objects.get(task=inquiry_acknowledge_task.name)


def _make_due(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(1))


@pytest.fixture
def mail_server_down(settings):
    """SMTP on a loopback port nothing answers: every send is a real ConnectionRefusedError."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = False
    return settings


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        durable_enqueue(inquiry_acknowledge_task, 1)
    with pytest.raises(TypeError), transaction.atomic():
        durable_enqueue(inquiry_acknowledge_task, "someone@example.com")
    assert not Job.objects.exists()


def test_a_job_runs_on_commit_and_is_marked_done(django_capture_on_commit_callbacks, mailoutbox):
    inquiry = _inquiry(django_capture_on_commit_callbacks)
    job = _job()
    assert job.args == [inquiry.pk] and job.state == Job.State.DONE and job.done_at
    assert [m.to for m in mailoutbox] == [[ADDRESS]]
    # A duplicate message of a done job sends nothing more.
    inquiry_acknowledge_task.apply(args=[inquiry.pk], kwargs={"job_id": job.pk})
    assert len(mailoutbox) == 1


def test_a_lost_run_is_due_again_after_its_lease_and_done_once(
    django_capture_on_commit_callbacks, mailoutbox
):
    _inquiry(django_capture_on_commit_callbacks, execute=False)  # enqueued, never delivered
    job = _job()
    # A worker took it (claimed its lease) and was killed before it finished.
    assert durable._claim(job.pk, datetime.timedelta(minutes=2))
    assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING
    # While the lease runs, neither the sweep nor a duplicate message runs it a second time.
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() == 0
    inquiry_acknowledge_task.apply(args=job.args, kwargs={"job_id": job.pk})
    assert mailoutbox == []

    _make_due(job)  # the lease is over
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() == 1
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.attempts == 1
    assert [m.to for m in mailoutbox] == [[ADDRESS]]
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() == 0
    assert len(mailoutbox) == 1


def test_a_failing_job_backs_off_is_given_up_with_a_reason_and_try_again_runs_it(
    client, settings, mail_server_down, smtp_sink, django_capture_on_commit_callbacks
):
    settings.DURABLE_MAX_ATTEMPTS = 3
    inquiry = _inquiry(django_capture_on_commit_callbacks)
    job = _job()
    assert job.state == Job.State.PENDING and job.attempts == 1
    assert job.last_error.startswith("ConnectionRefusedError:")
    wait = job.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=25) < wait <= datetime.timedelta(seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() == 0  # not due yet

    _make_due(job)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() == 1
    job.refresh_from_db()
    assert job.attempts == 2 and job.state == Job.State.PENDING
    assert job.next_attempt_at - timezone.now() > datetime.timedelta(seconds=55)  # doubled

    _make_due(job)
    with django_capture_on_commit_callbacks(execute=True):
        job_sweep()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.attempts == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert job_sweep() == 0  # given up: only staff start it again
    assert Inquiry.objects.get(pk=inquiry.pk).acknowledged_at is None

    # The privacy officer sees it, with its reason and no address, and tries again.
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    listing = client.get(reverse("admin:core_job_changelist"), {"state": "failed"})
    page = listing.content.decode()
    assert listing.status_code == 200
    assert "inquiry_acknowledge_task" in page and "ConnectionRefusedError" in page
    assert ADDRESS not in page
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:core_job_changelist"),
            {"action": "try_again", "_selected_action": [job.pk]},
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert [m["to"] for m in smtp_sink.messages] == [[ADDRESS]]
    assert Inquiry.objects.get(pk=inquiry.pk).acknowledged_at is not None

    # Done work cannot be "tried again"; the refusal is shown and nothing is sent.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:core_job_changelist"),
            {"action": "try_again", "_selected_action": [job.pk]},
            follow=True,
        )
    assert "already done" in response.content.decode()
    assert len(smtp_sink.messages) == 1


def test_a_permanent_refusal_is_given_up_at_once(smtp_settings, django_capture_on_commit_callbacks):
    smtp_settings.refuse.add(ADDRESS)  # the real sink answers 550 for this recipient
    _inquiry(django_capture_on_commit_callbacks)
    job = _job()
    assert job.state == Job.State.FAILED and job.attempts == 1
    assert job.last_error == "MailRefused: the mail server refused the message for good"


def test_reasons_never_hold_the_exception_text():
    refused = smtplib.SMTPRecipientsRefused({ADDRESS: (550, b"unknown")})
    for exc in (refused, OSError(f"cannot reach {ADDRESS}"), ValueError(ADDRESS), MailRefused()):
        assert ADDRESS not in failure_reason(exc)
    assert failure_reason(ConnectionRefusedError()).startswith("ConnectionRefusedError: ")


def test_backoff_doubles_and_is_capped(settings):
    waits = [backoff(n).total_seconds() for n in range(1, settings.DURABLE_MAX_ATTEMPTS)]
    assert waits[:4] == [30, 60, 120, 240] and max(waits) == 3600
    # A dozen tries span hours, not the 30 seconds of Celery's old retry_backoff.
    assert sum(waits) > 4 * 3600


def test_the_sweep_is_scheduled_every_minute():
    task = PeriodicTask.objects.get(name="core: sweep due work")
    assert task.enabled and task.task == "apps.core.tasks.job_sweep_task"
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_only_the_privacy_officer_and_admins_see_background_work(client):
    url = reverse("admin:core_job_changelist")
    for role in (roles.SUPPORT, roles.MARKETING):
        client.force_login(make_staff(role))
        assert client.get(url).status_code == 403
    client.force_login(make_staff(superuser=True))
    assert client.get(url).status_code == 200
    assert (
        Group.objects.get(name=roles.PRIVACY_OFFICER)
        .permissions.filter(codename="change_job")
        .exists()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_skips_the_jobs_another_sweep_holds():
    """Two beat (or worker) machines sweeping at once: rows one holds (FOR UPDATE) are skipped
    by the other, not waited for and not sent twice."""
    import threading

    from django.db import connection

    with transaction.atomic():
        held, free = (
            durable_enqueue(inquiry_acknowledge_task, n, delay=datetime.timedelta(0))
            for n in (10**6, 10**6 + 1)  # no such inquiries: the runs find nothing to send
        )
    locked, release = threading.Event(), threading.Event()

    def other_sweep():
        try:
            with transaction.atomic():
                Job.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sweep)
    thread.start()
    try:
        assert locked.wait(30)
        assert job_sweep() == 1
    finally:
        release.set()
        thread.join(30)
    assert Job.objects.get(pk=free.pk).state == Job.State.DONE
    assert Job.objects.get(pk=held.pk).state == Job.State.PENDING
