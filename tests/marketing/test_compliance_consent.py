"""Mail-law duties of the mail magazines: why a delivery was allowed, re-opt-in after erasure,
and an import that mails only people who consented."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.consents.models import ConsentEvent, Source
from apps.consents.services import Evidence, consent_grant
from apps.core import roles
from apps.core.privacy import personal_data_erase
from apps.marketing import selectors, services
from apps.marketing.models import (
    Campaign,
    Delivery,
    Subscription,
    SuppressedAddress,
    SuppressionLift,
)
from apps.marketing.pipeline.fanout import campaign_fanout
from tests.consents.factories import purpose
from tests.factories import CustomerFactory, make_staff
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


def _delivery(mag) -> Delivery:
    customer = subscriber(mag)
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    campaign_fanout(campaign_id=c.pk)
    return Delivery.objects.get(campaign=c, customer=customer)


def test_the_privacy_officer_sees_the_consent_event_that_allowed_a_delivery(client, mag):
    delivery = _delivery(mag)
    event = ConsentEvent.objects.get(customer=delivery.customer, action="grant")
    assert delivery.consent_event == event  # recorded at fan-out
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    page = client.get(reverse("admin:marketing_delivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert str(event) in text  # the event in words (purpose, action, time), linked
    assert reverse("admin:consents_consentevent_change", args=[event.pk]) in text
    assert event.wording.text in text and "My Page" in text


def test_marketing_sees_nothing_of_deliveries_or_their_consent(client, mag):
    delivery = _delivery(mag)
    client.force_login(make_staff(roles.MARKETING))
    assert client.get(reverse("admin:marketing_delivery_changelist")).status_code == 403
    change = reverse("admin:marketing_delivery_change", args=[delivery.pk])
    assert client.get(change).status_code == 403
    assert "ConsentEvent" not in client.get(reverse("admin:index")).content.decode()


def _erased_address(mag) -> str:
    customer = subscriber(mag, email="again@example.com")
    personal_data_erase(customer_id=customer.pk)
    assert (
        SuppressedAddress.objects.get(
            address_hash=selectors.address_hash("again@example.com")
        ).reason
        == SuppressedAddress.Reason.ERASED
    )
    return "again@example.com"


def _confirm_link(mailoutbox) -> str:
    link = next(l for l in mailoutbox[-1].body.splitlines() if "/newsletter/confirm/" in l)  # noqa: E741
    return link.replace("http://testserver", "")


def test_a_person_whose_address_was_erased_can_subscribe_again_by_double_opt_in(
    client, mag, mailoutbox, django_capture_on_commit_callbacks
):
    address = _erased_address(mag)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("marketing:subscribe"), {"email": address, "magazine": mag.pk})
    assert mailoutbox and mailoutbox[-1].to == [address]
    hashed = selectors.address_hash(address)
    assert SuppressedAddress.objects.filter(address_hash=hashed).exists()  # not before the click
    assert client.post(_confirm_link(mailoutbox)).status_code == 200

    subscription = Subscription.objects.get(status="active")
    assert not SuppressedAddress.objects.filter(address_hash=hashed).exists()
    lift = SuppressionLift.objects.get(address_hash=hashed)
    assert lift.reason == SuppressedAddress.Reason.ERASED and lift.magazine == mag
    assert lift.consent_event.customer == subscription.customer
    assert lift.consent_event.source == Source.SUBSCRIBE_FORM and lift.consent_event.context
    assert lift.lifted_at and lift.suppressed_at
    assert selectors.eligible_subscriptions(magazine=mag).get() == subscription
    # Erased again: suppressed again, the evidence of the lift stays.
    personal_data_erase(customer_id=subscription.customer_id)
    assert SuppressedAddress.objects.get(address_hash=hashed).reason == "erased"
    assert SuppressionLift.objects.filter(pk=lift.pk).exists()


def test_the_evidence_of_a_lift_goes_with_its_consent_event_at_retention(
    client, mag, mailoutbox, django_capture_on_commit_callbacks
):
    import datetime

    from apps.marketing import retention

    address = _erased_address(mag)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("marketing:subscribe"), {"email": address, "magazine": mag.pk})
    client.post(_confirm_link(mailoutbox))
    lift = SuppressionLift.objects.get()
    services.subscription_unsubscribe(subscription=Subscription.objects.get(status="active"))
    retention.purge(today=(lift.lifted_at + datetime.timedelta(days=2 * 365)).date())
    assert SuppressionLift.objects.filter(pk=lift.pk).exists()  # within 3 years: kept
    retention.purge(today=(lift.lifted_at + datetime.timedelta(days=4 * 366)).date())
    assert not SuppressionLift.objects.exists()
    assert not ConsentEvent.objects.filter(pk=lift.consent_event_id).exists()


def test_a_member_with_an_erased_address_is_told_the_truth_and_sent_a_link(
    client, mag, mailoutbox, django_capture_on_commit_callbacks
):
    address = _erased_address(mag)
    member = CustomerFactory(email=address)
    client.force_login(member.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("marketing:mypage_subscription"),
            {"magazine": mag.pk, "action": "subscribe"},
            follow=True,
        )
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "bounced" not in shown and "erased" in shown
    assert mailoutbox[-1].to == [address]
    assert Subscription.objects.get(customer=member).status == "pending"
    client.post(_confirm_link(mailoutbox))
    assert Subscription.objects.get(customer=member).status == "active"


def test_bounce_and_complaint_suppressions_stay(mag, mailoutbox):
    for reason in ("bounced", "complained"):
        address = f"{reason}@example.com"
        services.suppression_add(reason=reason, address=address)
        assert services.subscription_request(email=address, magazine=mag) is None
        member = CustomerFactory(email=address)
        with pytest.raises(ValidationError):
            services.subscription_subscribe_member(customer=member, magazine=mag)
    assert not mailoutbox


def test_the_import_mails_only_people_who_consented_and_does_not_say_someone_asked(
    mag, mailoutbox, django_capture_on_commit_callbacks
):
    consented, silent = CustomerFactory(), CustomerFactory()
    consent_grant(
        purpose=purpose("newsletter"), source=Source.IMPORT, customer=consented,
        evidence=Evidence(wording="Signed up at the shop counter, 2024"),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        result = services.subscription_import(magazine=mag, customers=[consented, silent])
    assert result["requested"] == 1 and result["no_consent"] == 1
    assert [m.to for m in mailoutbox] == [[consented.email]]
    assert not Subscription.objects.filter(customer=silent).exists()
    body = mailoutbox[0].body
    assert "hopefully you" not in body and "Someone" not in body and "asked" not in body
