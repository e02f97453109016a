"""Staff add an address to the suppression list by hand, and check one: typed, hashed, never
stored in clear; the list shows hashes and reasons only."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from apps.core import roles
from apps.customers.models import User
from apps.marketing import pipeline
from apps.marketing.models import Campaign, SuppressedAddress
from apps.marketing.selectors import address_hash
from tests.marketing.helpers import campaign, magazine, received_by, subscriber

pytestmark = pytest.mark.django_db

ADD = "admin:marketing_suppressedaddress_add"
CHECK = "admin:marketing_suppressedaddress_check"
LIST = "admin:marketing_suppressedaddress_changelist"


def _staff(client, role):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(email=f"{role[:3]}@shop.test", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def _all_text_in_the_database() -> str:
    """Every row of the suppression table and Django's admin log, as text."""
    with connection.cursor() as cursor:
        rows = []
        for table in (SuppressedAddress._meta.db_table, "django_admin_log"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            rows += cursor.fetchall()
    return repr(rows)


@pytest.mark.parametrize("role", [roles.MARKETING, roles.PRIVACY_OFFICER])
def test_staff_suppress_a_typed_address_and_only_its_hash_is_kept(client, role):
    _staff(client, role)
    response = client.post(
        reverse(ADD), {"address": " Complainer@Example.JP ", "reason": "complained"}
    )
    assert response.status_code == 302 and response.url == reverse(LIST)
    row = SuppressedAddress.objects.get()
    assert row.address_hash == address_hash("complainer@example.jp")
    assert row.reason == "complained" and row.magazine_id is None
    assert "complainer" not in _all_text_in_the_database().lower()
    page = client.get(reverse(LIST)).content.decode()
    assert "Complained" in page and "complainer" not in page.lower()
    # Again: nothing more is added, and staff are told it was already there.
    response = client.post(
        reverse(ADD), {"address": "complainer@example.jp", "reason": "bounced"}, follow=True
    )
    assert "already suppressed" in response.content.decode()
    assert SuppressedAddress.objects.count() == 1


@pytest.mark.parametrize("address", ["not-an-address", "taro@", "@example.jp", ""])
def test_a_malformed_address_is_refused_with_a_clear_message(client, address):
    _staff(client, roles.MARKETING)
    response = client.post(reverse(ADD), {"address": address, "reason": "bounced"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid e-mail address" in page or "This field is required" in page
    assert not SuppressedAddress.objects.exists()


def test_an_erasure_cannot_be_claimed_by_hand(client):
    _staff(client, roles.PRIVACY_OFFICER)
    response = client.post(reverse(ADD), {"address": "a@example.jp", "reason": "erased"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not SuppressedAddress.objects.exists()


def test_support_cannot_add_and_marketing_cannot_remove(client):
    _staff(client, roles.SUPPORT)
    assert (
        client.post(reverse(ADD), {"address": "a@example.jp", "reason": "bounced"}).status_code
        == 403
    )
    assert not SuppressedAddress.objects.exists()
    client.logout()
    _staff(client, roles.MARKETING)
    client.post(reverse(ADD), {"address": "a@example.jp", "reason": "bounced"})
    row = SuppressedAddress.objects.get()
    delete = reverse("admin:marketing_suppressedaddress_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert SuppressedAddress.objects.filter(pk=row.pk).exists()


def test_check_answers_yes_or_no_and_stores_nothing(client):
    _staff(client, roles.MARKETING)
    client.post(reverse(ADD), {"address": "gone@example.jp", "reason": "bounced"})
    before = list(SuppressedAddress.objects.values_list("pk", "address_hash", "reason"))
    yes = client.post(reverse(CHECK), {"address": "GONE@example.jp"}).content.decode()
    assert "Yes: this address receives no mail magazine." in yes
    no = client.post(reverse(CHECK), {"address": "here@example.jp"}).content.decode()
    assert "No: this address is not suppressed" in no
    bad = client.post(reverse(CHECK), {"address": "here@"}).content.decode()
    assert "Enter a valid e-mail address" in bad
    assert list(SuppressedAddress.objects.values_list("pk", "address_hash", "reason")) == before
    assert "here@" not in _all_text_in_the_database()
    assert client.get(reverse(LIST)).content.decode().count(reverse(CHECK)) == 1


def test_an_address_suppressed_by_hand_receives_no_campaign(client, smtp_settings):
    mag = magazine()
    subscriber(mag, email="stop-by-phone@example.jp")
    subscriber(mag, email="reader@example.jp")
    _staff(client, roles.PRIVACY_OFFICER)
    client.post(reverse(ADD), {"address": "stop-by-phone@example.jp", "reason": "unsubscribed"})
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    for lo, hi in pipeline.campaign_fanout(campaign_id=c.pk):
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert received_by(smtp_settings) == ["reader@example.jp"]
