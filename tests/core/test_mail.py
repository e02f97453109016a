"""A mail server's refusal names the recipient; that text must reach neither a log nor a retry.
A real SMTP server (aiosmtpd) refuses one address here."""

import logging

import pytest
from django.urls import reverse

from apps.core.mail import MailRefused, send_mail
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

REFUSED = "gone.away@example.jp"


def test_a_refused_recipient_raises_without_the_address(smtp_settings):
    smtp_settings.refuse.add(REFUSED)
    with pytest.raises(MailRefused) as refused:
        send_mail(subject="s", message="m", from_email=None, to=REFUSED)
    assert REFUSED not in str(refused.value) and REFUSED not in repr(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert not isinstance(refused.value, OSError)  # tasks retry OSError only: not this
    send_mail(subject="s", message="m", from_email=None, to="fine@example.jp")
    assert [m["to"] for m in smtp_settings.messages] == [["fine@example.jp"]]


def test_a_temporary_refusal_is_worth_a_retry_and_holds_no_address(smtp_settings):
    """A 4xx at RCPT (greylisting, a full mailbox) is not a refusal for good: durable work and
    tasks retry an OSError, and give up on MailRefused at once."""
    smtp_settings.defer.add(REFUSED)
    with pytest.raises(OSError) as deferred:
        send_mail(subject="s", message="m", from_email=None, to=REFUSED)
    assert not isinstance(deferred.value, MailRefused)
    assert REFUSED not in str(deferred.value) and "451" in str(deferred.value)
    smtp_settings.defer.clear()
    send_mail(subject="s", message="m", from_email=None, to=REFUSED)
    assert [m["to"] for m in smtp_settings.messages] == [[REFUSED]]


def test_a_refused_password_reset_logs_no_address(
    client, smtp_settings, caplog, django_capture_on_commit_callbacks
):
    member = CustomerFactory(user__email=REFUSED)
    smtp_settings.refuse.add(REFUSED)
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": member.user.email})
    assert response.status_code == 302  # the same answer as for any address
    # The failure is logged by job id (the mail is durable work, given up on a 550).
    assert "durable job failed" in caplog.text and "MailRefused" in caplog.text
    assert REFUSED not in caplog.text
