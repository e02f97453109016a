"""For a logged-in member the consent ledger decides which tags render and what the cookie
banner shows; the browser's cookie speaks for visitors only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.consents.models import ConsentState, ExternalTag
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AD_TAG = "https://tags.adco.example/ad.js"
STATS_TAG = "https://tags.adco.example/stats.js"


@pytest.fixture(autouse=True)
def tags(settings):
    settings.EXTERNAL_TAG_ALLOWED_HOSTS = ["tags.adco.example"]
    for name, category, url in (("Ads", "advertising", AD_TAG), ("Stats", "analytics", STATS_TAG)):
        ExternalTag.objects.create(
            name=name, category=category, recipient="AdCo", data_sent="page URL",
            purpose=name, script_url=url, is_active=True,
        )  # fmt: skip


def test_a_withdrawal_on_mypage_stops_the_ad_tag_though_the_cookie_still_says_yes(client):
    member = CustomerFactory()
    client.force_login(member.user)
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})
    page = client.get("/").content.decode()
    assert AD_TAG in page and STATS_TAG in page

    client.post(reverse("consents:mypage"), {"purpose": "remarketing", "action": "withdraw"})
    response = client.get("/")
    page = response.content.decode()
    assert AD_TAG not in page  # the browser cookie still says advertising=1
    assert STATS_TAG in page
    # The banner's form reflects the ledger: advertising unticked, analytics ticked.
    assert response.context["cookie_choices"] == {"analytics": True, "advertising": False}
    assert response.context["cookie_banner_needed"] is False


def test_a_member_who_never_answered_sees_the_banner_and_no_tag(client):
    member = CustomerFactory()
    client.force_login(member.user)
    response = client.get("/")
    assert AD_TAG not in response.content.decode()
    assert response.context["cookie_banner_needed"] is True


def test_a_choice_made_as_a_visitor_becomes_the_members_at_their_first_page(client):
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})  # as a visitor
    member = CustomerFactory()
    client.force_login(member.user)
    response = client.get("/")
    assert AD_TAG in response.content.decode()
    assert response.context["cookie_banner_needed"] is False
    assert ConsentState.objects.filter(customer=member, status="granted").count() == 2
    # From now on the ledger decides, whatever the cookie says.
    client.post(reverse("consents:mypage"), {"purpose": "remarketing", "action": "withdraw"})
    assert AD_TAG not in client.get("/").content.decode()


def test_a_visitor_is_still_served_by_the_cookie(client):
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})
    assert AD_TAG in client.get("/").content.decode()


def test_the_members_consent_costs_one_query_per_page(client):
    member = CustomerFactory()
    client.force_login(member.user)
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})
    client.get("/")  # the first page after login links this browser's visitor id, once
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    consent_queries = [q["sql"] for q in queries if "consents_consentstate" in q["sql"]]
    assert len(consent_queries) == 1, consent_queries
