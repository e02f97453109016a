import datetime
from unittest import mock

import pytest
from django.utils import timezone

from apps.consents import services as consent_services
from apps.consents.models import ConsentEvent, ProvisionRecord
from apps.core.services import retention_run
from apps.marketing.models import Delivery
from tests.consents.factories import purpose
from tests.factories import CustomerFactory
from tests.marketing.helpers import campaign, magazine

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2030, 6, 1)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _event_on(day: datetime.date, *, action: str, customer, p) -> ConsentEvent:
    """A ledger event written on `day` (the ledger can't be back-dated, so travel in time)."""
    record = (
        consent_services.consent_grant if action == "grant" else consent_services.consent_withdraw
    )
    with mock.patch("apps.consents.services.ledger.timezone.now", return_value=_at(day)):
        return record(purpose=p, source="mypage", customer=customer)


def _delivery(c, customer, event, day):
    return Delivery.objects.create(
        campaign=c, customer=customer, consent_event=event, status="sent", sent_at=_at(day)
    )


def test_marketing_consent_records_go_three_years_after_the_last_mail():
    mag = magazine()
    customer = CustomerFactory()
    grant = _event_on(datetime.date(2025, 1, 1), action="grant", customer=customer, p=mag.purpose)
    just_outside = _delivery(campaign(mag), customer, grant, datetime.date(2027, 5, 31))
    # The grant still decides the current answer: kept, though its only mail is past 3 years.
    assert retention_run(today=TODAY, dry_run=True)["marketing_consent_records"] == 1
    assert Delivery.objects.filter(pk=just_outside.pk).exists()
    retention_run(today=TODAY)
    assert not Delivery.objects.filter(pk=just_outside.pk).exists()
    assert ConsentEvent.objects.filter(pk=grant.pk).exists()

    # Withdrawn later: the grant no longer decides anything, but a mail sent on it less than
    # 3 years ago keeps it.
    withdrawal = _event_on(
        datetime.date(2027, 7, 1), action="withdraw", customer=customer, p=mag.purpose
    )
    just_inside = _delivery(
        campaign(mag, subject="2nd"), customer, grant, datetime.date(2027, 6, 2)
    )
    retention_run(today=TODAY)
    assert ConsentEvent.objects.filter(pk=grant.pk).exists()
    assert Delivery.objects.filter(pk=just_inside.pk).exists()
    # A year later that mail is 3 years old: the delivery goes, and then the grant.
    retention_run(today=datetime.date(2031, 6, 1))
    assert not Delivery.objects.filter(pk=just_inside.pk).exists()
    assert not ConsentEvent.objects.filter(pk=grant.pk).exists()
    assert ConsentEvent.objects.filter(pk=withdrawal.pk).exists()  # decides the current state


def test_other_purposes_are_never_purged():
    magazine()
    customer = CustomerFactory()
    p = purpose("third_party_provision")
    event = _event_on(datetime.date(2020, 1, 1), action="grant", customer=customer, p=p)
    _event_on(datetime.date(2020, 2, 1), action="withdraw", customer=customer, p=p)
    retention_run(today=TODAY)
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_provision_records_go_the_day_after_their_keep_until_date():
    customer = CustomerFactory()
    consent_services.consent_grant(
        purpose=purpose("third_party_provision"), source="mypage", customer=customer
    )
    records = [
        consent_services.provision_record_create(
            customers=[customer],
            recipient_name="Partner",
            recipient_address="Tokyo",
            data_items="name",
            basis="consent",
            retain_until=day,
        )
        for day in (TODAY - datetime.timedelta(days=1), TODAY)
    ]
    assert retention_run(today=TODAY, dry_run=True)["provision_records"] == 1
    assert ProvisionRecord.objects.count() == 2
    retention_run(today=TODAY)
    assert list(ProvisionRecord.objects.all()) == [records[1]]
