"""Double opt-in for members: until a member has confirmed their address, no marketing consent
of theirs is in force and no campaign reaches them; the confirmation click is the consent
evidence, and what they chose starts without anything more. The campaigns run through the real
pipeline to the real SMTP sink (tests/marketing/helpers.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.consents.models import ConsentEvent, ConsentEventContext, ConsentState, Source
from apps.customers import services as customer_services
from apps.customers.models import Customer, User
from apps.marketing import pipeline, selectors, services
from apps.marketing.models import Campaign, Subscription
from tests.customers.test_login_email import LINK
from tests.factories import CustomerFactory
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "someone-else@example.com",
    "password1": "blue-mountain-coffee-77",
    "password2": "blue-mountain-coffee-77",
    "family_name": "佐藤",
    "given_name": "健",
    "family_name_kana": "サトウ",
    "given_name_kana": "ケン",
}


def run_campaign(mag, sink) -> list[str]:
    """Send a new campaign through fan-out and chunks; who received it."""
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    for lo, hi in pipeline.campaign_fanout(campaign_id=c.pk):
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    return sorted(
        rcpt
        for m in sink.messages
        if m["message"]["Subject"] == c.subject and m["message"]["List-Unsubscribe"]
        for rcpt in m["to"]
    )


def confirmation_path(sink, address) -> str:
    bodies = [
        m["message"].get_body(("plain",)).get_content()
        for m in sink.messages
        if m["to"] == [address]
    ]
    links = [link for link in map(LINK.search, bodies) if link]
    return reverse("email_confirm", args=[links[-1].group(1)])


def test_a_newsletter_ticked_at_signup_waits_for_the_address_then_starts_by_itself(
    smtp_settings, django_capture_on_commit_callbacks
):
    mag = magazine()
    client = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="confirming-browser")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signup"), {**SIGNUP, "consent-newsletter": "on"})
    assert response.status_code == 302
    customer = Customer.objects.get(email=SIGNUP["email"])

    # Until the address is confirmed: recorded as given, not in force, nothing sent.
    state = ConsentState.objects.get(customer=customer, purpose=mag.purpose)
    assert state.status == ConsentState.Status.PENDING
    events = ConsentEvent.objects.filter(customer=customer, purpose=mag.purpose)
    assert list(events.values_list("action", flat=True)) == ["pending"]
    assert Subscription.objects.get(customer=customer).status == "pending"
    assert run_campaign(mag, smtp_settings) == []

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(confirmation_path(smtp_settings, SIGNUP["email"]))
    assert confirmed.status_code == 200

    # The click is the evidence: a grant with the wording shown at signup, its IP and agent.
    grant = events.order_by("pk").last()
    assert (grant.action, grant.source) == ("grant", Source.EMAIL_CONFIRMATION)
    assert grant.wording_id == events.order_by("pk").first().wording_id
    context = ConsentEventContext.objects.get(event=grant)
    assert (context.ip_address, context.user_agent) == ("203.0.113.9", "confirming-browser")
    state.refresh_from_db()
    assert state.status == ConsentState.Status.GRANTED and state.last_event == grant
    assert Subscription.objects.get(customer=customer).status == "active"
    assert run_campaign(mag, smtp_settings) == [SIGNUP["email"]]


def test_subscribing_from_mypage_unconfirmed_goes_through_confirmation(
    smtp_settings, django_capture_on_commit_callbacks
):
    mag = magazine()
    member = CustomerFactory(user__email_confirmed_at=None)
    client = Client()
    client.force_login(member.user)
    client.post(
        reverse("marketing:mypage_subscription"), {"magazine": mag.pk, "action": "subscribe"}
    )
    subscription = Subscription.objects.get(customer=member)
    assert subscription.status == "pending"
    # Still a usable My Page: a consent waiting for the address is not a question to answer.
    assert client.get(reverse("mypage:overview")).status_code == 200
    assert not ConsentEvent.objects.filter(customer=member, action="grant").exists()
    assert run_campaign(mag, smtp_settings) == []

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mypage:email_confirm_resend"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirmation_path(smtp_settings, member.email))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert run_campaign(mag, smtp_settings) == [member.email]


def test_a_member_whose_address_is_not_confirmed_is_not_eligible(smtp_settings):
    mag = magazine()
    confirmed, unconfirmed = subscriber(mag), subscriber(mag)
    # E.g. a member from before confirmation existed, subscribed and granted.
    User.objects.filter(pk=unconfirmed.user_id).update(email_confirmed_at=None)
    guest = CustomerFactory(user=None, email="guest@example.com")
    Subscription.objects.create(
        magazine=mag,
        customer=guest,
        status="active",
        email_hash=selectors.address_hash(guest.email),
    )
    ConsentState.objects.create(
        customer=guest,
        purpose=mag.purpose,
        status="granted",
        last_event=ConsentEvent.objects.filter(customer=confirmed).first(),
    )
    eligible = selectors.eligible_subscriptions(magazine=mag)
    assert set(eligible.values_list("customer_id", flat=True)) == {confirmed.pk, guest.pk}
    assert run_campaign(mag, smtp_settings) == sorted([confirmed.email, guest.email])


def test_a_public_form_subscription_still_needs_its_own_link(django_capture_on_commit_callbacks):
    """Confirming the login proves the address, not that the member asked for a subscription
    someone else requested for it through the public form."""
    mag = magazine()
    member = CustomerFactory(user__email_confirmed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_request(email=member.email, magazine=mag)
        confirmation = customer_services.user_email_confirmation_resend(user=member.user)
    from apps.mypage.services import member_email_confirm

    member_email_confirm(token=customer_services.email_confirmation_token(confirmation.pk))
    assert Subscription.objects.get(customer=member).status == "pending"
