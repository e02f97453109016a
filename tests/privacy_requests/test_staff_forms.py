"""The form staff record a letter or a call with: the person on file is found by a search
sent by POST (the name typed never reaches a URL or a log; the customers found are on the
access log as a page view), and a correction is entered one input per field, not as JSON."""

import logging

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from apps.audit.models import AccessLog
from apps.privacy_requests.models import PrivacyRequest
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored():
    """A request with Accept-Language: ja leaves Japanese active in this thread; the tests
    after this one expect the language they started with."""
    with translation.override(translation.get_language()):
        yield


URL = "admin:privacy_requests_privacyrequest_add"


def letter(**fields):
    return {"kind": "disclosure", "law": "appi", "channel": "postal_mail",
            "received_on": timezone.localdate().isoformat(), "requester_type": "person",
            "requester_name": "長谷川 美智子", **fields}  # fmt: skip


def test_the_person_is_found_by_a_post_search_logged_without_the_term(client, support, caplog):
    person = CustomerFactory(family_name="長谷川", given_name="美智子", phone="090-2468-1357")
    namesake = CustomerFactory(family_name="長谷川", given_name="一郎")
    CustomerFactory(family_name="佐藤", given_name="美智子")
    client.force_login(support)
    page = client.get(reverse(URL)).content.decode()
    assert 'name="customer_search"' in page and 'name="_find"' in page
    assert 'method="post"' in page

    caplog.set_level(logging.DEBUG)
    response = client.post(reverse(URL), letter(customer_search="長谷川 美智子", _find="1"))
    assert response.status_code == 200
    assert not PrivacyRequest.objects.exists()  # a search records nothing
    assert response.context["found"] == [person]
    assert f'value="{person.pk}"' in response.content.decode()
    (logged,) = AccessLog.objects.filter(action="view", model_label="customers.Customer")
    assert logged.ids == [str(person.pk)] and logged.staff_user_id == support.pk
    assert "長谷川" not in caplog.text and "美智子" not in caplog.text
    for row in AccessLog.objects.values_list():
        assert "長谷川" not in " ".join(map(str, row))

    # By phone, with or without the hyphens: both namesakes are told apart by it.
    response = client.post(reverse(URL), letter(customer_search="09024681357", _find="1"))
    assert response.context["found"] == [person]
    response = client.post(reverse(URL), letter(customer_search="長谷川", _find="1"))
    assert set(response.context["found"]) == {person, namesake}

    saved = client.post(
        reverse(URL),
        letter(customer=person.pk, disclosure_form="paper", requester_postal_address="〒1"),
    )
    assert saved.status_code == 302
    assert PrivacyRequest.objects.get().customer == person


def test_a_search_finding_nobody_says_so(client, support):
    client.force_login(support)
    response = client.post(
        reverse(URL), letter(customer_search="存在しない", _find="1"), HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert response.context["found"] == []
    assert "見つかりません" in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_correction_is_entered_field_by_field(client, support):
    person = CustomerFactory(phone="090-1111-2222")
    client.force_login(support)
    page = client.get(reverse(URL)).content.decode()
    for name in ("family_name", "given_name", "family_name_kana", "phone", "email"):
        assert f'name="{name}"' in page
    assert 'name="requested_changes"' not in page

    bad = client.post(
        reverse(URL),
        letter(
            kind="correction", customer=person.pk, phone="12345", requester_email="r@example.com"
        ),
    )
    assert bad.status_code == 200 and not PrivacyRequest.objects.exists()
    assert bad.context["form"].errors

    none = client.post(
        reverse(URL), letter(kind="correction", customer=person.pk, requester_email="r@example.com")
    )
    assert none.status_code == 200 and not PrivacyRequest.objects.exists()

    good = client.post(
        reverse(URL),
        letter(kind="correction", customer=person.pk, phone="03-1111-2222",
               family_name_kana="タナカ", requester_email="reply@example.com"),
    )  # fmt: skip
    assert good.status_code == 302, good.context["form"].errors
    assert PrivacyRequest.objects.get().requested_changes == {
        "phone": "03-1111-2222",
        "family_name_kana": "タナカ",
    }
