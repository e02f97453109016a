"""A request with a fee says, on its page and in the receipt mail, how to pay, that the price
includes tax, and what happens once it is paid."""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.privacy_requests.models import FeeStatus, Kind, PrivacyRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored():
    """A request in Japanese leaves Japanese active in this thread; later tests expect English."""
    language = translation.get_language()
    yield
    translation.activate(language)


PAYMENT = "ゆうちょ銀行 〇一八店 普通 1234567 デモショップ(カ"


@pytest.fixture
def member(client, customer):
    client.force_login(customer.user)
    return customer


@pytest.fixture
def paid_by_transfer(settings):
    settings.PRIVACY_REQUEST_FEE_PAYMENT = PAYMENT


def file_disclosure(client, django_capture_on_commit_callbacks, **headers):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("privacy_requests:create"),
            {"kind": Kind.DISCLOSURE, "law": "appi", "disclosure_form": "electronic"},
            **headers,
        )
    assert response.status_code == 302
    privacy_request = PrivacyRequest.objects.get()
    assert privacy_request.fee_status == FeeStatus.PENDING
    return privacy_request


def test_the_request_page_says_how_to_pay_and_what_happens_next(
    client, member, paid_by_transfer, django_capture_on_commit_callbacks
):
    privacy_request = file_disclosure(client, django_capture_on_commit_callbacks)
    page = client.get(
        reverse("privacy_requests:detail", args=[privacy_request.reference])
    ).content.decode()
    assert PAYMENT in page
    assert "tax included" in page
    assert "Once we have confirmed your payment" in page


def test_the_receipt_mail_says_how_to_pay_and_what_happens_next(
    client, member, paid_by_transfer, mailoutbox, django_capture_on_commit_callbacks
):
    file_disclosure(client, django_capture_on_commit_callbacks)
    (receipt,) = mailoutbox
    assert PAYMENT in receipt.body
    assert "tax included" in receipt.body
    assert "Once we have confirmed your payment" in receipt.body


def test_in_japanese_the_fee_says_zeikomi(
    client, member, paid_by_transfer, mailoutbox, django_capture_on_commit_callbacks
):
    with translation.override("ja"):
        privacy_request = file_disclosure(
            client, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="ja"
        )
        page = client.get(
            reverse("privacy_requests:detail", args=[privacy_request.reference]),
            HTTP_ACCEPT_LANGUAGE="ja",
        ).content.decode()
    assert "1,000円（税込）" in page
    assert "1,000円（税込）" in mailoutbox[0].body
    assert "お支払いを確認" in page


def test_the_demo_settings_say_how_to_pay():
    from config.settings import local

    assert local.PRIVACY_REQUEST_FEE_PAYMENT
