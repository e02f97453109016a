"""Staff record a consent given offline (phone, letter, shop counter) with who recorded it, the
channel and the wording read or signed; every staff path that writes the ledger names its actor;
`acquired_via` says how the person really came to us."""

import pytest
from django.urls import reverse

from apps.consents.models import ConsentEvent, ConsentState
from apps.core import roles
from apps.customers.models import Customer
from apps.marketing.models import Subscription
from tests.factories import CustomerFactory, make_staff
from tests.marketing.helpers import magazine, subscriber

pytestmark = pytest.mark.django_db

URL = "admin:consents_consentevent_record_offline"
WORDING = "電話で読み上げた文言: メールマガジンをお送りしてよろしいですか。"


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.PRIVACY_OFFICER])
def test_staff_record_a_consent_given_on_the_phone_with_actor_channel_and_wording(client, role):
    staff = make_staff(role)
    client.force_login(staff)
    customer = CustomerFactory()
    assert client.get(reverse(URL)).status_code == 200
    response = client.post(
        reverse(URL),
        {"customer": customer.pk, "purpose": "newsletter", "action": "grant",
         "channel": "phone", "wording": WORDING},
    )  # fmt: skip
    assert response.status_code == 302
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.action, event.source, event.actor) == ("grant", "phone", staff)
    assert event.wording.text == WORDING
    state = ConsentState.objects.get(customer=customer, purpose=event.purpose)
    assert state.status == "granted" and state.last_event == event


def test_a_withdrawal_by_letter_and_bad_input_change_nothing_else(client):
    staff = make_staff(roles.SUPPORT)
    client.force_login(staff)
    customer = CustomerFactory()
    bad = client.post(
        reverse(URL),
        {"customer": customer.pk, "purpose": "newsletter", "action": "grant", "channel": "phone",
         "wording": ""},
    )  # fmt: skip
    assert bad.status_code == 200 and "wording" in bad.context["form"].errors
    unknown = client.post(
        reverse(URL),
        {"customer": 999999, "purpose": "newsletter", "action": "grant", "channel": "phone",
         "wording": WORDING},
    )  # fmt: skip
    assert unknown.status_code == 200 and "customer" in unknown.context["form"].errors
    assert not ConsentEvent.objects.exists()
    client.post(
        reverse(URL),
        {"customer": customer.pk, "purpose": "newsletter", "action": "withdraw",
         "channel": "letter", "wording": "署名済みの撤回書"},
    )  # fmt: skip
    event = ConsentEvent.objects.get()
    assert (event.action, event.source, event.actor) == ("withdraw", "letter", staff)


def test_marketing_cannot_record_consents(client):
    client.force_login(make_staff(roles.MARKETING))
    assert client.get(reverse(URL)).status_code == 403


def test_an_unsubscribe_by_staff_names_the_staff_user_in_the_ledger(client):
    staff = make_staff(roles.SUPPORT)
    client.force_login(staff)
    mag = magazine()
    customer = subscriber(mag)
    subscription = Subscription.objects.get(customer=customer)
    client.post(
        reverse("admin:marketing_subscription_changelist"),
        {"action": "unsubscribe", "_selected_action": [subscription.pk]},
    )
    event = ConsentEvent.objects.filter(customer=customer).latest("pk")
    assert (event.action, event.source, event.actor) == ("withdraw", "admin", staff)


def test_a_visitor_who_subscribed_is_recorded_as_a_subscriber_not_an_inquiry(client):
    mag = magazine()
    client.post(reverse("marketing:subscribe"), {"email": "fan@example.com", "magazine": mag.pk})
    customer = Customer.objects.get(email="fan@example.com")
    assert customer.acquired_via == Customer.AcquiredVia.SUBSCRIPTION


def test_a_customer_import_run_by_staff_names_them_on_the_consent_events_it_writes(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.integration.models import ApiClient
    from tests.imports.files import ecube_csv, ecube_member

    shop = ApiClient.objects.create(name="ec-cube shop", system=ApiClient.System.ECCUBE)
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    url = reverse("admin:integration_apiclient_import", args=[shop.pk])
    data = ecube_csv([ecube_member(1, **{"メールマガジン送付について": "0"})])
    client.post(url, {"file_format": "ecube", "file": SimpleUploadedFile("m.csv", data)})
    done = client.post(url, {"confirm": "1", "file": SimpleUploadedFile("m.csv", data)})
    assert done.context["report"].applied and done.context["report"].consents_withdrawn == 1
    [event] = ConsentEvent.objects.all()
    assert event.action == "withdraw" and event.actor == officer
