"""The member's new-request form: each group of fields says which kinds it belongs to (the
page's script shows only those), the server keeps only the chosen kind's fields, and nothing
pre-selects a postal address."""

import re

import pytest
from django.urls import reverse

from apps.privacy_requests.models import Kind, PrivacyRequest
from tests.factories import AddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, customer):
    client.force_login(customer.user)
    return customer


def group(page: str, field: str) -> str:
    """The opening tag of the outermost wrapper marked for a kind, around the field."""
    before = page[: page.index(f'name="{field}"')]
    return before[before.rindex('data-show-if-name="kind"') - 200 :]


def test_field_groups_say_which_kinds_they_belong_to(client, member):
    page = client.get(reverse("privacy_requests:create")).content.decode()
    disclosure = re.search(r'data-show-if-values="([^"]*)"', group(page, "disclosure_form"))
    assert set(disclosure.group(1).split()) >= {"disclosure", "provision_records"}
    assert "correction" not in disclosure.group(1).split()
    changes = re.search(r'data-show-if-values="([^"]*)"', group(page, "family_name"))
    assert set(changes.group(1).split()) == {"correction", "addition"}
    # The postal address shows only for a paper disclosure.
    assert 'data-show-if-name="disclosure_form" data-show-if-values="paper"' in page
    # Without the script every group is there, under a heading that says what it is for.
    assert "Only for a disclosure" in page and "Only for a correction or an addition" in page


def test_no_postal_address_is_preselected(client, member):
    AddressFactory(customer=member, is_default=True)
    form = client.get(reverse("privacy_requests:create")).context["form"]
    assert form["postal_address"].value() is None
    page = client.get(reverse("privacy_requests:create")).content.decode()
    select = page.split('name="postal_address"')[1].split("</select>")[0]
    assert "selected" not in select.replace('value="" selected', "")


def test_fields_of_another_kind_are_ignored_not_validated(client, member):
    """Without the script a member may fill in fields of another kind: only the chosen kind's
    fields are validated and kept."""
    home = AddressFactory(customer=member, is_default=True)
    response = client.post(
        reverse("privacy_requests:create"),
        {
            "kind": Kind.STOP_OF_USE,
            "law": "appi",
            "phone": "12",  # invalid, but not part of a stop of use
            "family_name": "山田",
            "disclosure_form": "paper",
            "postal_address": home.pk,
        },
    )
    assert response.status_code == 302
    privacy_request = PrivacyRequest.objects.get()
    assert privacy_request.requested_changes in ({}, None)
    assert privacy_request.disclosure_form == ""
    assert privacy_request.requester_postal_address == ""
