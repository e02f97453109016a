"""The published notice (/privacy/) in Japanese: no English mixed in, dates in Japanese form,
the fee with 税込."""

import re

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored():
    """A request in Japanese leaves Japanese active in this thread; later tests expect English."""
    language = translation.get_language()
    yield
    translation.activate(language)


# The shop's own settings, named in Japanese, and the technical words a Japanese notice keeps.
SHOP = {
    "SHOP_NAME": "デモショップ株式会社",
    "SHOP_REPRESENTATIVE": "代表取締役 山田太郎",
    "SHOP_CONTACT_EMAIL": "privacy@example.com",
}
KEPT = {"Cookie", "TLS", "DM"}


def visible_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0].split(">", 1)[1]
    return re.sub(r"<[^>]+>", " ", main)


@pytest.fixture
def notice(client, settings):
    for name, value in SHOP.items():
        setattr(settings, name, value)
    return visible_text(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="ja").content.decode())


def test_the_japanese_notice_has_no_english_words(notice):
    text = notice.replace(SHOP["SHOP_CONTACT_EMAIL"], "")
    english = set(re.findall(r"[A-Za-z]{2,}", text)) - KEPT
    assert english == set()


def test_the_japanese_notice_dates_read_as_japanese(notice):
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", notice)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", notice)


def test_the_japanese_notice_says_fees_include_tax(notice):
    assert re.search(r"1,000円（税込）", notice)


def test_the_policy_history_dates_read_as_japanese(client):
    page = client.get("/privacy/versions/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)
