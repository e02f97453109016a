"""Signup does not tell whether an address has an account: the same answer either way, and a
mail to the address, which says "you already have an account" to a registered one."""

import logging

import pytest
from django.urls import reverse

from apps.customers.models import Customer, User
from tests.customers.test_views import SIGNUP_POST
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def sign_up(client, capture, **changes):
    with capture(execute=True):
        response = client.post(reverse("signup"), {**SIGNUP_POST, **changes})
    return response


def test_a_registered_and_a_new_address_get_the_same_answer(
    client, django_capture_on_commit_callbacks
):
    CustomerFactory(user__email="taken@example.com")
    capture = django_capture_on_commit_callbacks
    new = sign_up(client, capture, email="fresh@example.com")
    taken = sign_up(client, capture, email="Taken@Example.com")
    assert new.status_code == taken.status_code == 302
    assert new["Location"] == taken["Location"]
    # Neither is logged in: being let in would tell the two apart.
    assert "_auth_user_id" not in client.session
    page = client.get(new["Location"]).content.decode()
    assert "Check your inbox" in page and "taken@example.com" not in page.lower()


def test_a_registered_address_gets_an_already_have_an_account_mail_and_nothing_is_created(
    client, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO)
    existing = CustomerFactory(user__email="taken@example.com")
    response = sign_up(
        client, django_capture_on_commit_callbacks, email="taken@example.com", family_name="別人"
    )
    assert response.status_code == 302
    assert User.objects.count() == 1 and Customer.objects.count() == 1
    existing.refresh_from_db()
    assert existing.family_name != "別人"
    (mail,) = mailoutbox
    assert mail.to == ["taken@example.com"]
    assert "already have an account" in mail.body
    assert reverse("login") in mail.body and reverse("password_reset") in mail.body
    assert "taken@example.com" not in caplog.text


def test_a_new_address_gets_the_confirmation_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks, email="fresh@example.com")
    (mail,) = mailoutbox
    assert mail.to == ["fresh@example.com"] and "/accounts/email/confirm/" in mail.body
    assert Customer.objects.filter(email="fresh@example.com").exists()
