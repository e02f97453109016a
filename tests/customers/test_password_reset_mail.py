"""The password reset mail is durable work: with the mail server refusing connections the page
answers as usual, and the link goes out (and works) once the server is back."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.bench.kit import free_port
from apps.core.durable import job_sweep
from apps.core.models import Job
from apps.customers.tasks import password_reset_send_task
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_reset_asked_while_the_mail_server_is_down_is_mailed_once_it_is_back(
    client, settings, smtp_settings, caplog, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    settings.EMAIL_PORT = free_port()  # nothing answers there: connection refused
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": customer.user.email})
    assert response.status_code == 302
    [job] = Job.objects.filter(task=password_reset_send_task.name)
    assert job.args == [customer.user.pk] and job.state == Job.State.PENDING
    assert job.last_error.startswith("ConnectionRefusedError")
    assert smtp_settings.messages == []
    assert customer.user.email not in caplog.text

    settings.EMAIL_PORT = smtp_settings.port  # the mail server is back
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        job_sweep()
    [received] = smtp_settings.messages
    assert received["to"] == [customer.user.email]
    body = received["message"].get_body(("plain",)).get_content()
    link = next(line for line in body.splitlines() if "/accounts/password/reset/" in line)
    response = client.get(link.split("testserver", 1)[1], follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "fresh-green-tea-2026", "new_password2": "fresh-green-tea-2026"},
    )
    assert response.status_code == 302
    customer.user.refresh_from_db()
    assert customer.user.check_password("fresh-green-tea-2026")
