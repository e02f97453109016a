"""The disclosure page (index.html of the package, and the printed page for paper disclosures)
reads as words, and the package's CSV files hold local times and JSON, not Python reprs."""

import csv
import datetime
import io
import json
import re
import zipfile

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from apps.consents import services as consents
from apps.consents.models import ProvisionRecord, Source
from apps.core.display import NOTHING
from apps.core.privacy import declared_sections, personal_data_export
from apps.customers.services import inquiry_create, user_email_change_request
from apps.integration.models import ApiClient, ExternalCustomer
from apps.marketing.models import Delivery
from apps.marketing.services import subscription_subscribe_member
from apps.orders.models import Order
from apps.privacy_requests.models import Kind
from apps.privacy_requests.templatetags.disclosure import disclosure_sections
from tests.consents.factories import purpose
from tests.marketing.helpers import campaign, magazine
from tests.privacy_requests.conftest import make_request
from tests.privacy_requests.test_carry_out import approve_and_carry_out

pytestmark = pytest.mark.django_db

# Every section the apps declare, in page order, each with every header it declares (the
# exporters' own words: the page has no words of its own any more).
SECTIONS = {(app, s.key): s for app, s in declared_sections()}
HEADERS: dict[str, str] = {}

# 07:09:30.123456 UTC is 16:09 in Tokyo (the shop's TIME_ZONE).
PLACED_AT = datetime.datetime(2026, 11, 23, 7, 9, 30, 123456, tzinfo=datetime.UTC)
RAW_FIELD_NAMES = (
    "ship_postal_code",
    "family_name_kana",
    "placed_at",
    "card_last4",
    "requested_changes",
    "orders / orders",
    "customers / profile",
)
# What the page shows for codes, in each language (the model choices' labels).
LABELS = {
    "ja": {
        "card": "クレジットカード",
        "newsletter": "メールマガジン・DMの送付",
        "granted": "同意済み",
        "mypage": "マイページ",
        "disclosure": "開示",
    },
    "en": {
        "card": "Credit card",
        "newsletter": "Mail magazines and direct mail",
        "granted": "Granted",
        "mypage": "My Page",
        "disclosure": "Disclosure",
    },
}


@pytest.fixture
def person(person_with_order):
    """A member with an order (lines, card payment) placed at a known time, a consent given on
    My Page, a correction request and the disclosure request being answered, in Japanese."""
    customer, order = person_with_order
    Order.objects.filter(pk=order.pk).update(placed_at=PLACED_AT)
    consents.consent_grant(
        purpose=purpose("newsletter"),
        source=Source.MYPAGE,
        customer=customer,
        evidence=consents.Evidence(wording="メールマガジンを受け取る", ip_address="192.0.2.10"),
    )
    make_request(customer, kind=Kind.CORRECTION, requested_changes={"phone": "03-1111-2222"})
    return customer, order, make_request(customer, kind=Kind.DISCLOSURE, language="ja")


@pytest.fixture
def person_with_everything(person):
    """`person` with something in every section the exporters write."""
    customer = person[0]
    inquiry_create(
        name=customer.full_name, email=customer.email, topic="order", message="届きません"
    )
    consents.provision_record_create(
        customers=[customer],
        recipient_name="警視庁",
        recipient_address="東京都千代田区霞が関2-1-1",
        data_items="氏名、住所、注文履歴",
        basis=ProvisionRecord.Basis.POLICE,
        legal_reference="捜査関係事項照会書 第123号",
    )
    consents.receipt_record_create(
        customers=[customer],
        provider_name="提携ショップ株式会社",
        provider_address="大阪府大阪市北区1-1",
        how_acquired="会員登録時に本人から",
        data_items="氏名、メールアドレス",
    )
    consents.restriction_set(customer=customer, stop_provision=True)
    user_email_change_request(user=customer.user, new_email="hayashi.new@example.jp")
    weekly = magazine()
    subscription_subscribe_member(customer=customer, magazine=weekly)
    Delivery.objects.create(
        campaign=campaign(weekly), customer=customer, status="sent", sent_at=timezone.now()
    )
    storefront = ApiClient.objects.create(name="Storefront", system=ApiClient.System.SHOPIFY)
    ExternalCustomer.objects.create(client=storefront, external_id="C-77", customer=customer)
    return person


def render(privacy_request, *, language: str, **extra) -> str:
    privacy_request.language = language
    with translation.override(language):
        data = personal_data_export(customer_id=privacy_request.customer_id)
        return render_to_string(
            "privacy_requests/disclosure.html",
            {"data": data, "privacy_request": privacy_request, "settings": settings, **extra},
        )


def section(sections, title):
    return next(s for s in sections if s.title == title)


def value(section_, header, row=0):
    """The cell under `header` in a section's row."""
    return dict(section_.table.records[row])[header]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_page_shows_words_not_field_names_codes_or_reprs(person, language):
    _, order, privacy_request = person
    html = render(privacy_request, language=language)
    labels = LABELS[language]
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert headers and not set(headers) & {
        "id",
        "number",
        "status",
        "ship_postal_code",
        "family_name_kana",
        "unit_price",
    }
    for raw in RAW_FIELD_NAMES:
        assert raw not in html
    assert "{'" not in html and "{&#x27;" not in html and "[{" not in html
    # Choice labels, not codes.
    for label in labels.values():
        assert label in html
    assert not re.search(r">(card|placed|granted|mypage|disclosure|postal_mail)<", html)
    # Times in the shop's time zone, to the minute; money in yen.
    assert "2026-11-23 16:09" in html
    # (Not "07:09" alone: the page also shows the time it was prepared, which may be 07:09.)
    assert "2026-11-23 07:09" not in html and "123456" not in html and "+00:00" not in html
    assert "¥1,500" in html  # the product's unit price, in the order's lines
    assert f"<td>{order.lines.get().product_name}</td>" in html
    assert f"<td>{NOTHING}</td>" in html  # the member has never logged in
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize("language", ["ja", "en"])
def test_sections_hold_labelled_display_values(person, language):
    customer, order, _ = person
    with translation.override(language):
        sections = disclosure_sections(personal_data_export(customer_id=customer.pk))
        titles = [s.title for s in sections]
        profile = pgettext("disclosure page section", "Profile")
        orders = section(sections, pgettext("disclosure page section", "Orders"))
        login = section(sections, pgettext("disclosure page section", "Login"))
        requests = section(sections, pgettext("disclosure page section", "Your requests"))
        history = section(sections, pgettext("disclosure page section", "Consent history"))
        assert titles[0] == profile  # the person first, whatever the registry's order
        assert value(orders, gettext("Ordered at")).text == "2026-11-23 16:09"
        assert value(orders, gettext("Status")).text == str(Order.Status(order.status).label)
        assert value(orders, gettext("Total")).text == f"¥{order.total:,}"
        payment = value(orders, gettext("Payment")).lines
        assert len(payment) == 3 and LABELS[language]["card"] in payment[0]
        assert "4242" in payment[2]
        lines = value(orders, gettext("Items")).table
        assert lines.headers == (gettext("Product"), gettext("Unit price"), gettext("Quantity"))
        assert [c.text for c in lines.rows[0]][1:] == ["¥1,500", "2"]
        assert value(login, gettext("Last login")).text == NOTHING
        assert value(history, gettext("Via")).text == LABELS[language]["mypage"]
        changes = value(requests, gettext("Changes you asked for")).lines
        assert changes == (
            gettext("%(label)s: %(value)s")
            % {"label": gettext("Phone number"), "value": "03-1111-2222"},
        )
        assert (
            value(requests, gettext("Kind of request"), row=1).text
            == (LABELS[language]["disclosure"])
        )


def test_every_section_and_field_the_exporters_write_has_a_title_and_a_header(
    person_with_everything,
):
    customer = person_with_everything[0]
    with translation.override("en"):
        sections = disclosure_sections(personal_data_export(customer_id=customer.pk))
        titles = {str(info.title) for info in SECTIONS.values()}
        headers = {str(h) for h in HEADERS.values()} | {
            str(h) for info in SECTIONS.values() for h in info.headers.values()
        }
    assert [s.title for s in sections] == [str(info.title) for info in SECTIONS.values()]
    for section_ in sections:
        assert section_.title in titles and section_.table.rows, section_.title
        assert set(section_.table.headers) <= headers, section_.title
        for row in section_.table.rows:
            for cell in row:
                if cell.table is not None:
                    assert set(cell.table.headers) <= headers
    restrictions = section(sections, "Restrictions of use")
    assert [c.text for c in restrictions.table.rows[0]][:2] == ["No", "Yes"]
    provision = section(sections, "Third-party provision records")
    assert value(provision, "Basis").text.startswith("Inquiry from the police")
    assert value(provision, "Provided on").text == timezone.localdate().isoformat()
    mails = section(sections, "Mails you received")
    assert value(mails, "Status").text == "Sent"
    assert (
        value(mails, "What the mail provider reported").text == "No report from the mail provider"
    )


def test_the_english_page_reads_as_english(person):
    html = render(person[2], language="en", package=True)
    for text in (
        "<h2>Profile</h2>",
        "<h2>Orders</h2>",
        "<h2>Consents (current)</h2>",
        "<h2>Your requests</h2>",
        ">Family name (kana)</th>",
        ">Shipping postal code</th>",
        ">Default address</th><td>Yes</td>",
        "Payment method: Credit card<br>Card brand: VISA",
        "Phone number: 03-1111-2222",
        "as of ",
        "data.json",
    ):
        assert text in html
    assert "Nothing held." in html  # no inquiries, no mail magazine


def test_the_printed_page_is_in_the_requesters_language_whoever_prints_it(person):
    privacy_request = person[2]
    privacy_request.language = "ja"
    with translation.override("en"):  # an officer using the admin in English
        html = render_to_string(
            "privacy_requests/disclosure.html",
            {
                "data": personal_data_export(customer_id=privacy_request.customer_id),
                "privacy_request": privacy_request,
                "settings": settings,
            },
        )
    assert "クレジットカード" in html and "Credit card" not in html
    assert "data.json" not in html  # nothing beside a printed page


def test_an_unknown_section_or_field_gets_a_readable_fallback():
    data = {
        "loyalty": {
            "points_ledger": [
                {"points_earned": 120, "expires_on": datetime.date(2027, 3, 31), "note": None}
            ]
        }
    }
    with translation.override("en"):
        (points,) = disclosure_sections(data)
    assert points.title == "Loyalty / points ledger"
    assert points.table.headers == ("Points earned", "Expires on", "Note")
    assert [cell.text for cell in points.table.rows[0]] == ["120", "2027-03-31", NOTHING]


def test_the_package_has_a_readable_page_and_csv_without_utc_or_reprs(
    person, officer, django_capture_on_commit_callbacks
):
    _, order, privacy_request = person
    privacy_request = approve_and_carry_out(
        privacy_request, officer, django_capture_on_commit_callbacks
    )
    with privacy_request.package.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    html = archive.read("index.html").decode()
    assert "クレジットカード" in html and "ship_postal_code" not in html  # the requester's language
    assert "data.json" in html
    tables = {
        name: archive.read(name).decode("utf-8-sig")
        for name in archive.namelist()
        if name.startswith("csv/")
    }
    assert {"csv/orders-orders.csv", "csv/consents-consent_history.csv"} <= set(tables)
    for name, text in tables.items():
        assert "+00:00" not in text, name
        assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", text), name  # no microseconds
        assert "{'" not in text and "[{'" not in text, name
    (row,) = csv.DictReader(io.StringIO(tables["csv/orders-orders.csv"]))
    assert row["placed_at"] == "2026-11-23T16:09:30+09:00"
    assert json.loads(row["lines"]) == [
        {"product": order.lines.get().product_name, "unit_price": 1500, "quantity": 2}
    ]
    assert json.loads(row["payment"]) == {
        "method": "card",
        "card_brand": "VISA",
        "card_last4": "4242",
    }
    requests = list(csv.DictReader(io.StringIO(tables["csv/privacy_requests-requests.csv"])))
    assert json.loads(requests[0]["requested_changes"]) == {"phone": "03-1111-2222"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00", requests[0]["received_at"])
