"""GDPR requesters: one month (Art. 12(3)) instead of the APPI day count, extendable once by up
to two more months with reasons the requester is told (service, admin action, timeline, mail)."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from apps.privacy_requests import services
from apps.privacy_requests.models import Kind, Law, Notice, PrivacyRequest, RequestEvent
from apps.privacy_requests.services import add_months, due_date
from tests.privacy_requests.conftest import make_request

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:privacy_requests_privacyrequest_changelist"
REASONS = "Your request covers ten years of orders across three systems."


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime.date(2026, 1, 15), 1, datetime.date(2026, 2, 15)),
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 12, 20), 1, datetime.date(2027, 1, 20)),
        (datetime.date(2026, 2, 28), 2, datetime.date(2026, 4, 28)),
        (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
    ],
)
def test_months_are_counted_to_the_same_day_or_the_last_day(start, months, end):
    assert add_months(start, months) == end


def test_gdpr_requests_get_one_month_appi_requests_the_day_count(settings):
    settings.PRIVACY_REQUEST_DUE_DAYS = 60
    received = at(datetime.date(2026, 1, 31))
    assert due_date(received, Law.GDPR) == datetime.date(2026, 2, 28)
    assert due_date(received, Law.APPI) == datetime.date(2026, 4, 1)
    # APPI applies to a GDPR request as well: the earlier deadline wins.
    settings.PRIVACY_REQUEST_DUE_DAYS = 14
    assert due_date(received, Law.GDPR) == datetime.date(2026, 2, 14)


def test_a_gdpr_request_is_due_in_a_month(customer, settings):
    settings.PRIVACY_REQUEST_DUE_DAYS = 60
    received = timezone.now() - datetime.timedelta(days=2)
    pr = make_request(customer, kind=Kind.GDPR_ACCESS, in_eea=True, received_at=received)
    assert pr.due_on == add_months(timezone.localdate(received), 1)
    appi = make_request(customer, kind=Kind.DISCLOSURE, received_at=received)
    assert appi.due_on == timezone.localdate(received) + datetime.timedelta(days=60)


def test_extension_moves_the_deadline_writes_the_timeline_and_tells_the_requester(
    customer, officer, django_capture_on_commit_callbacks
):
    pr = make_request(customer, kind=Kind.GDPR_PORTABILITY, in_eea=True)
    first_due = pr.due_on
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_extend(privacy_request=pr, by=officer, months=2, reasons=REASONS)
    pr.refresh_from_db()
    assert pr.due_on == add_months(first_due, 2)
    assert pr.extended_at and pr.extension_reasons == REASONS
    event = pr.events.get(step=RequestEvent.Step.EXTENDED)
    assert event.actor_user == officer and event.note == pr.due_on.isoformat()
    assert Notice.objects.get(privacy_request=pr, kind=Notice.Kind.EXTENSION).sent_at
    message = mail.outbox[-1]
    assert message.to == [customer.email] and "More time is needed" in message.subject
    assert REASONS in message.body and pr.due_on.strftime("%Y-%m-%d") in message.body


def test_only_once_only_gdpr_only_open_only_before_the_deadline_and_with_reasons(customer, officer):
    gdpr = make_request(customer, kind=Kind.GDPR_ACCESS, in_eea=True)
    with pytest.raises(ValidationError):
        services.privacy_request_extend(privacy_request=gdpr, by=officer, months=2, reasons=" ")
    for months in (0, 3):
        with pytest.raises(ValidationError):
            services.privacy_request_extend(
                privacy_request=gdpr, by=officer, months=months, reasons=REASONS
            )
    services.privacy_request_extend(privacy_request=gdpr, by=officer, months=1, reasons=REASONS)
    due = PrivacyRequest.objects.get(pk=gdpr.pk).due_on
    with pytest.raises(ValidationError, match="only once"):
        services.privacy_request_extend(privacy_request=gdpr, by=officer, months=1, reasons=REASONS)
    assert PrivacyRequest.objects.get(pk=gdpr.pk).due_on == due

    appi = make_request(customer, kind=Kind.DISCLOSURE)
    with pytest.raises(ValidationError, match="GDPR"):
        services.privacy_request_extend(privacy_request=appi, by=officer, months=1, reasons=REASONS)

    late = make_request(
        customer,
        kind=Kind.GDPR_ACCESS,
        in_eea=True,
        received_at=timezone.now() - datetime.timedelta(days=40),
    )
    with pytest.raises(ValidationError, match="passed"):
        services.privacy_request_extend(privacy_request=late, by=officer, months=2, reasons=REASONS)

    closed = make_request(customer, kind=Kind.GDPR_ACCESS, in_eea=True)
    services.privacy_request_withdraw(privacy_request=closed, by=officer)
    with pytest.raises(ValidationError, match="closed"):
        services.privacy_request_extend(privacy_request=closed, by=officer, months=1, reasons="x")


def test_the_database_refuses_an_extended_appi_request(customer):
    pr = make_request(customer, kind=Kind.DISCLOSURE)
    with pytest.raises(IntegrityError):
        PrivacyRequest.objects.filter(pk=pr.pk).update(extended_at=timezone.now())


def test_admin_action_extends_with_reasons(client, customer, officer):
    pr = make_request(customer, kind=Kind.GDPR_ACCESS, in_eea=True)
    client.force_login(officer)
    data = {"action": "extend_deadline", "_selected_action": [pr.pk], "apply": "1", "months": "2"}
    response = client.post(reverse(CHANGELIST), {**data, "reasons": ""})
    assert response.status_code == 200 and response.context["form"].errors
    assert PrivacyRequest.objects.get(pk=pr.pk).extended_at is None
    client.post(reverse(CHANGELIST), {**data, "reasons": REASONS})
    pr.refresh_from_db()
    assert pr.extended_at and pr.extension_reasons == REASONS
    change = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    assert REASONS in change.content.decode()
