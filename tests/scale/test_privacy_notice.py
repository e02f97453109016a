"""/privacy/ is the same for everyone in a language: its body is rendered once and served from
the cache, while the cookie banner around it stays per visitor and a change to the policy or a
purpose shows at once."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.consents import cookies
from apps.consents.models import PolicyVersion, Purpose
from apps.consents.services import policy_version_publish

pytestmark = pytest.mark.django_db


def get(client, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("consents:notice"), **headers)
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    return response.content.decode(), tables


def publish(version: str, body: str):
    return policy_version_publish(
        version=PolicyVersion.objects.create(version=version, title="t", body_ja=body, body_en=body)
    )


def test_the_notice_is_rendered_once_then_served_without_queries():
    publish("9.1", "第一版の本文")
    first, tables = get(Client())
    assert "第一版の本文" in first and "consents_policyversion" in tables

    again, tables = get(Client())
    assert again.count("第一版の本文") == 1
    assert "consents_policyversion" not in tables
    assert "consents_purpose" not in tables


def test_a_new_policy_version_or_a_renamed_purpose_shows_at_once():
    publish("9.1", "第一版の本文")
    get(Client())
    publish("9.2", "第二版の本文")
    page, _tables = get(Client())
    assert "第二版の本文" in page and "第一版の本文" not in page

    purpose = Purpose.objects.filter(is_active=True).first()
    purpose.name_ja = purpose.name_en = "新しい目的の名前"
    purpose.save()
    page, _tables = get(Client())
    assert "新しい目的の名前" in page


def test_each_language_has_its_own_copy():
    get(Client(), headers={"accept-language": "ja"})
    english, _tables = get(Client(), headers={"accept-language": "en"})
    japanese, _tables = get(Client(), headers={"accept-language": "ja"})
    assert "Matters concerning retained personal data" in english
    assert "Matters concerning retained personal data" not in japanese


def test_the_cookie_banner_stays_per_visitor():
    get(Client())  # cached by a visitor who has not chosen
    newcomer, _tables = get(Client())
    chosen = Client()
    chosen.cookies.load({})
    response = chosen.post(reverse("consents:cookie_choice"), {"choice": "necessary"})
    assert cookies.CHOICE_COOKIE in response.cookies
    decided, _tables = get(chosen)
    assert 'id="cookie-banner"' in newcomer
    assert 'id="cookie-banner"' not in decided


def test_with_the_cache_down_the_notice_still_answers_and_a_policy_still_publishes(cache_down):
    publish("9.3", "第三版の本文")  # the save's generation change must not fail either
    page, tables = get(Client())
    assert "第三版の本文" in page and "consents_policyversion" in tables
