"""Redis down at request time: member and visitor writes succeed and are recorded; their mail
waits as durable jobs (apps/core/durable.py) and goes out once Redis is back; the rate limiter
fails open with a warning that names the scope only."""

import logging

import pytest
from django.urls import reverse

from apps.core.models import Job
from apps.customers.models import Customer, Inquiry
from apps.privacy_requests.models import Notice, PrivacyRequest
from tests.factories import CustomerFactory

# Real commits: the enqueue (and so the broker fault) happens when the request's transaction
# commits, inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

SIGNUP = {
    "email": "cachedown@example.com",
    "password1": "blue-mountain-coffee-77",
    "password2": "blue-mountain-coffee-77",
    "family_name": "佐藤",
    "given_name": "健",
    "family_name_kana": "サトウ",
    "given_name_kana": "ケン",
    "phone": "090-1111-2222",
}
CONTACT = {
    "name": "田中 一郎",
    "email": "ichiro@example.com",
    "topic": "privacy",
    "message": "質問",
}


def test_with_the_cache_down_signup_contact_and_password_reset_answer_normally(
    client, cache_down, caplog
):
    caplog.set_level(logging.WARNING)
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    assert Customer.objects.filter(email="cachedown@example.com").exists()

    client.logout()
    response = client.post(reverse("contact"), CONTACT)
    assert response.status_code == 302 and Inquiry.objects.count() == 1

    response = client.post(reverse("password_reset"), {"email": "cachedown@example.com"})
    assert response.status_code == 302

    # Failing open is said in the log, with the scope and nothing about the person.
    warnings = [r.getMessage() for r in caplog.records if "rate limit" in r.getMessage()]
    assert warnings and all("scope=" in line for line in warnings)
    assert not any("example.com" in r.getMessage() for r in caplog.records)


def test_with_the_broker_down_a_mypage_request_contact_and_signup_are_recorded(
    client, broker_down, caplog
):
    member = CustomerFactory()
    client.force_login(member.user)
    response = client.post(
        reverse("privacy_requests:create"),
        {"kind": "stop_of_use", "law": "appi", "details": "メルマガ不要"},
    )
    assert response.status_code == 302
    request = PrivacyRequest.objects.get(customer=member)
    receipt = Notice.objects.get(privacy_request=request, kind=Notice.Kind.RECEIPT)
    assert receipt.sent_at is None

    client.logout()
    response = client.post(reverse("contact"), CONTACT)
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.acknowledged_at is None

    client.logout()
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    newcomer = Customer.objects.get(email=SIGNUP["email"])

    # Both mails wait as jobs, due for the sweep; the log names ids only.
    jobs = {job.task.rsplit(".", 1)[-1]: job for job in Job.objects.all()}
    assert jobs["notice_send_task"].args == [receipt.pk]
    assert jobs["inquiry_acknowledge_task"].args == [inquiry.pk]
    assert "email_confirmation_send_task" in jobs  # the signup's confirmation link
    assert {job.state for job in jobs.values()} == {Job.State.PENDING}
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "not enqueued" in logged
    for address in (member.email, "ichiro@example.com", newcomer.email):
        assert address not in logged
