"""A full erasure through a real `celery -A config worker` on PostgreSQL and Redis: afterwards
none of the person's personal data is left except the order kept for the tax hold, and running
the task again changes nothing."""

import pytest

from apps.customers.models import Address, Customer, Inquiry, User
from apps.customers.services import inquiry_create
from apps.orders.models import Order, Payment
from apps.privacy_requests import services
from apps.privacy_requests.models import Kind, Notice, PrivacyRequest, Status
from apps.privacy_requests.tasks import privacy_request_execute_task
from tests.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def _state(customer, order):
    customer = Customer.objects.get(pk=customer.pk)
    order = Order.objects.get(pk=order.pk)
    return (
        {
            f: getattr(customer, f)
            for f in ("family_name", "given_name", "email", "phone", "status")
        },
        {f: getattr(order, f) for f in ("ship_name", "ship_address", "total", "use_suspended")},
        Address.objects.filter(customer_id=customer.pk).count(),
        list(PrivacyRequest.objects.values()),
    )


def test_erasure_through_a_real_worker(
    celery_worker_process, smtp_sink, person_with_order, officer
):
    customer, order = person_with_order
    user_id, email = customer.user_id, customer.email
    inquiry_create(name="山田 花子", email=email, topic="privacy", message="退会したい")
    pr = services.privacy_request_create_from_mypage(customer=customer, kind=Kind.ERASURE)
    services.privacy_request_approve(privacy_request=pr, by=officer)
    services.privacy_request_carry_out(privacy_request=pr, by=officer)

    wait_until(
        lambda: PrivacyRequest.objects.filter(pk=pr.pk, status=Status.COMPLETED).exists(),
        timeout=60,
    )
    wait_until(
        lambda: (
            not Notice.objects.filter(privacy_request=pr, sent_at=None).exists()
            and PrivacyRequest.objects.filter(pk=pr.pk, contact_erased_at__isnull=False).exists()
        ),
        timeout=60,
    )

    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED
    for name in (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "phone",
        "email",
    ):
        assert getattr(customer, name) == "", name
    assert customer.date_of_birth is None
    login = User.objects.get(pk=user_id)  # emptied, not deleted
    assert login.email == f"erased-{user_id}@erased.invalid" and not login.is_active
    assert not login.has_usable_password() and login.last_login is None
    assert not Address.objects.filter(customer=customer).exists()
    assert not Inquiry.objects.filter(email__iexact=email).exists()
    order.refresh_from_db()
    assert order.number and order.total and order.placed_at  # the tax record stays
    assert order.use_suspended and order.hold_until
    assert (order.ship_name, order.ship_postal_code, order.ship_address, order.ship_phone) == (
        "",
    ) * 4
    assert Payment.objects.get(order=order).card_last4 == ""
    pr.refresh_from_db()
    assert pr.requester_email == "" and pr.requester_name == ""

    # The requester was told what was kept, why and until when, at the address they had.
    completion = [m for m in smtp_sink.messages if "is complete" in m["message"]["Subject"]]
    assert len(completion) == 1 and completion[0]["to"] == [email]
    body = completion[0]["message"].get_content()
    assert order.hold_until.isoformat() in body and "7 years" in body
    log = celery_worker_process.log_path.read_text()
    assert "privacy_request_execute_task" in log and "succeeded" in log
    assert email not in log and "山田" not in log

    # Running the task again changes nothing more.
    before = _state(customer, order)
    sent = len(smtp_sink.messages)
    privacy_request_execute_task.delay(pr.pk)
    log_path = celery_worker_process.log_path
    wait_until(lambda: log_path.read_text().count("privacy_request_execute_task") >= 4, timeout=60)
    wait_until(
        lambda: log_path.read_text().count("succeeded") >= log.count("succeeded") + 1, timeout=60
    )
    assert _state(customer, order) == before
    assert len(smtp_sink.messages) == sent
