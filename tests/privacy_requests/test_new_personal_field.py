"""Adding a personal field is a change to the owning app alone: a test-only app
(tests/registry_app) declares a model and, in its privacy.py, which fields are personal. Its
field reaches the disclosure package (JSON, CSV, the readable page), the admin's erasure preview
and the completion notice, though nothing in apps/ or templates/ names it."""

import csv
import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.text import capfirst

from apps.core.privacy import unregister
from apps.privacy_requests import services
from apps.privacy_requests.models import Kind
from tests.privacy_requests.conftest import make_request, to_review
from tests.privacy_requests.test_carry_out import approve_and_carry_out
from tests.registry_app.models import LoyaltyCard
from tests.registry_app.privacy import CARD_FIELDS, register_loyalty

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def loyalty():
    register_loyalty()
    yield
    unregister("loyalty")


@pytest.fixture
def card(customer, loyalty):
    return LoyaltyCard.objects.create(
        customer=customer,
        number="LC-0042",
        tier=LoyaltyCard.Tier.GOLD,
        points=1200,
        issued_at=datetime.datetime(2026, 4, 1, 1, 30, tzinfo=datetime.UTC),
        nickname="はなこ",
    )


def labels() -> list[str]:
    return [str(capfirst(LoyaltyCard._meta.get_field(name).verbose_name)) for name in CARD_FIELDS]


def test_the_new_field_is_in_the_json_the_csv_and_the_page(
    card, officer, django_capture_on_commit_callbacks
):
    pr = make_request(card.customer, kind=Kind.DISCLOSURE, language="en")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    with pr.package.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))

    (row,) = json.loads(archive.read("data.json"))["loyalty"]["cards"]
    assert set(row) == set(CARD_FIELDS) and row["nickname"] == "はなこ"
    (line,) = csv.DictReader(io.StringIO(archive.read("csv/loyalty-cards.csv").decode("utf-8-sig")))
    assert line["nickname"] == "はなこ" and line["tier"] == "gold"
    assert line["issued_at"] == "2026-04-01T10:30:00+09:00"
    html = archive.read("index.html").decode()
    assert "<h2>Loyalty cards</h2>" in html
    for label in labels():  # every column under its verbose name
        assert f">{label}</th>" in html, label
    assert ">はなこ</td>" in html
    assert ">Gold</td>" in html and ">gold<" not in html  # the choice's label, not its code
    assert ">2026-04-01 10:30</td>" in html  # the shop's time, by the shared helper


def test_the_new_data_is_in_the_erasure_preview_and_the_completion_notice(
    client, card, officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pr = to_review(make_request(card.customer, kind=Kind.ERASURE, language="en"), officer)
    client.force_login(officer)
    page = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    assert "<td>Loyalty cards</td><td>1</td>" in page.content.decode()
    assert LoyaltyCard.objects.exists()  # a preview changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.erasure_report["deleted"]["loyalty.LoyaltyCard"] == 1
    assert not LoyaltyCard.objects.exists()
    (completion,) = [m for m in mail.outbox if "is complete" in m.subject]
    assert "- loyalty cards: 1 deleted" in completion.body


def test_nothing_outside_the_owning_app_names_it():
    for folder in ("apps", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".txt"):
                text = path.read_text(encoding="utf-8")
                assert "LoyaltyCard" not in text and "registry_app" not in text, path
