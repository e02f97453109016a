import pytest
from django.test import Client
from django.urls import reverse

from apps.consents.models import ConsentEvent
from apps.marketing.mail import unsubscribe_token
from apps.marketing.models import Subscription
from tests.marketing.helpers import magazine, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


@pytest.fixture
def subscribed(mag):
    customer = subscriber(mag)
    return Subscription.objects.get(customer=customer)


def _url(subscription):
    return reverse("marketing:unsubscribe", args=[unsubscribe_token(subscription.pk)])


def test_get_shows_a_confirmation_and_changes_nothing(subscribed):
    response = Client().get(_url(subscribed))
    assert response.status_code == 200 and b"unsubscribe-button" in response.content
    subscribed.refresh_from_db()
    assert subscribed.status == "active"


def test_post_unsubscribes_without_login_or_csrf(subscribed):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_url(subscribed))
    assert response.status_code == 200
    subscribed.refresh_from_db()
    assert subscribed.status == "unsubscribed"
    assert ConsentEvent.objects.filter(action="withdraw", source="unsubscribe").count() == 1
    # Twice is fine and changes nothing more.
    assert client.post(_url(subscribed)).status_code == 200
    assert ConsentEvent.objects.filter(action="withdraw").count() == 1


def test_rfc8058_one_click_post(subscribed):
    response = Client(enforce_csrf_checks=True).post(
        _url(subscribed), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200 and response.content == b""
    subscribed.refresh_from_db()
    assert subscribed.status == "unsubscribed"


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2] + "xx", lambda t: "999." + t.split(".")[1], lambda t: "nonsense"]
)
def test_a_tampered_token_is_400_and_changes_nothing(subscribed, mangle):
    token = mangle(unsubscribe_token(subscribed.pk))
    url = reverse("marketing:unsubscribe", args=[token])
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code == 400
    subscribed.refresh_from_db()
    assert subscribed.status == "active"
    assert not ConsentEvent.objects.filter(action="withdraw").exists()


def test_mypage_subscribe_and_unsubscribe(client, mag):
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    client.force_login(customer.user)
    url = reverse("marketing:mypage_subscription")
    client.post(url, {"magazine": mag.pk, "action": "subscribe"})
    assert Subscription.objects.get(customer=customer).status == "active"
    page = client.get(reverse("consents:mypage")).content.decode()
    assert 'id="subscriptions"' in page and mag.name in page
    client.post(url, {"magazine": mag.pk, "action": "unsubscribe"})
    assert Subscription.objects.get(customer=customer).status == "unsubscribed"


@pytest.mark.parametrize(
    "data",
    [
        {"magazine": "999", "action": "subscribe"},
        {"magazine": "x", "action": "subscribe"},
        {"action": "drop"},
    ],
)
def test_mypage_bad_input_changes_nothing(client, mag, data):
    from tests.factories import CustomerFactory

    client.force_login(CustomerFactory().user)
    response = client.post(reverse("marketing:mypage_subscription"), data)
    assert response.status_code == 302
    assert not Subscription.objects.exists() and not ConsentEvent.objects.exists()


def test_subscribe_form_and_confirmation(
    client, mag, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("marketing:subscribe"), {"email": "fan@example.com", "magazine": mag.pk}
        )
    assert response.status_code == 200
    link = next(line for line in mailoutbox[0].body.splitlines() if "/newsletter/confirm/" in line)
    path = link.replace("http://testserver", "")
    assert client.get(path).status_code == 200
    assert Subscription.objects.get().status == "pending"  # a GET (a mail scanner) confirms nothing
    assert client.post(path).status_code == 200
    assert Subscription.objects.get().status == "active"


def test_subscribe_form_bad_input_writes_nothing(client, mag):
    response = client.post(
        reverse("marketing:subscribe"), {"email": "not-an-address", "magazine": mag.pk}
    )
    assert response.status_code == 200 and "email" in response.context["form"].errors
    assert not Subscription.objects.exists()


def test_a_bad_confirmation_link_is_400(client, mag):
    assert client.post(reverse("marketing:confirm", args=["forged-token"])).status_code == 400


def test_mypage_subscription_with_a_10000_digit_magazine_is_a_message_not_a_500(client, mag):
    """Issue 10 item 6: `int()` of more than 4,300 digits raised ValueError, a 500."""
    from tests.factories import CustomerFactory

    client.force_login(CustomerFactory().user)
    response = client.post(
        reverse("marketing:mypage_subscription"), {"magazine": "9" * 10_000, "action": "subscribe"}
    )
    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages] == ["That choice is not available."]
    assert not Subscription.objects.exists() and not ConsentEvent.objects.exists()


@pytest.mark.parametrize("token", ["١.abc", "².abc", "ã"])
def test_a_token_with_non_ascii_characters_is_a_400_not_a_500(client, mag, token):
    """`"١".isdigit()` and `"²".isdigit()` are true, and the confirmation token was encoded
    as ASCII: UnicodeEncodeError or ValueError, a 500."""
    for name in ("marketing:unsubscribe", "marketing:confirm"):
        response = client.post(reverse(name, args=[token]))
        assert response.status_code == 400, (name, response.status_code)
    assert not ConsentEvent.objects.exists()
