"""Retention holes closed: non-member inquiries and visitors' cookie-choice IP / user agent each
end at a documented time, checked the day before and the day after."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from apps.consents import services as consent_services
from apps.consents.models import ConsentEvent, ConsentEventContext
from apps.core.services import retention_run
from apps.customers.models import Inquiry
from tests.factories import CustomerFactory, GuestFactory

pytestmark = pytest.mark.django_db

RECEIVED = datetime.date(2029, 4, 10)


def _inquiry(**fields) -> Inquiry:
    inquiry = Inquiry.objects.create(
        name="山田 花子",
        email="hanako@example.com",
        topic=Inquiry.Topic.ORDER,
        message="届きません",
        **fields,
    )
    at = timezone.make_aware(datetime.datetime.combine(RECEIVED, datetime.time(23, 50)))
    Inquiry.objects.filter(pk=inquiry.pk).update(created_at=at)
    return inquiry


def test_non_member_inquiries_go_the_day_after_their_keeping_period():
    visitor = _inquiry()
    guest = _inquiry(customer=GuestFactory())
    member = _inquiry(customer=CustomerFactory())
    last_day = RECEIVED + datetime.timedelta(days=settings.RETENTION_INQUIRY_DAYS)

    assert retention_run(today=last_day)["non_member_inquiries"] == 0
    assert Inquiry.objects.count() == 3

    assert retention_run(today=last_day + datetime.timedelta(days=1))["non_member_inquiries"] == 2
    assert list(Inquiry.objects.values_list("pk", flat=True)) == [member.pk]
    assert not Inquiry.objects.filter(pk__in=[visitor.pk, guest.pk]).exists()


def _cookie_choice(**subject) -> ConsentEvent:
    (event, *_rest) = consent_services.cookie_choice_record(
        choices={"analytics": True, "advertising": False},
        wording="Cookies: necessary, analytics, advertising",
        ip_address="192.0.2.77",
        user_agent="Mozilla/5.0 (visitor)",
        visitor_id=uuid.uuid4(),
        **subject,
    )
    return event


def test_a_visitors_cookie_choice_loses_its_ip_and_user_agent_when_the_choice_lapses():
    visitor_event = _cookie_choice()
    member_event = _cookie_choice(customer=CustomerFactory())
    made_on = timezone.localdate(visitor_event.occurred_at)
    last_day = made_on + datetime.timedelta(days=settings.RETENTION_VISITOR_EVIDENCE_DAYS)

    assert retention_run(today=last_day)["visitor_cookie_evidence"] == 0
    assert ConsentEventContext.objects.filter(event=visitor_event).exists()

    after = retention_run(today=last_day + datetime.timedelta(days=1))
    assert after["visitor_cookie_evidence"] >= 1
    assert not ConsentEventContext.objects.filter(event__customer__isnull=True).exists()
    # The choice itself stays in the ledger; a member's evidence stays with the member.
    assert ConsentEvent.objects.filter(pk=visitor_event.pk).exists()
    assert ConsentEventContext.objects.get(event=member_event).ip_address == "192.0.2.77"


def test_the_rules_are_documented_with_their_period():
    from apps.core import retention

    described = {rule.name: rule.description for rule in retention.rules()}
    assert "RETENTION_INQUIRY_DAYS" in described["non_member_inquiries"]
    assert "lapses" in described["visitor_cookie_evidence"]
