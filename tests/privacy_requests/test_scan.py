"""The promise of issue 5, checked from outside the erasers: after an approved erasure carried
out through the privacy_requests workflow, a search of every text, character, JSON, e-mail and
address column of every table in the database, and of every stored file, finds none of the
person's name, kana, e-mail, phone, postal code or street, while their orders still exist with
amounts and dates."""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.bench import scan
from apps.consents import services as consents
from apps.consents.models import ProvisionRecord, Source
from apps.customers.services import inquiry_create
from apps.marketing import services as marketing
from apps.marketing.models import Campaign, Delivery, MailMagazine
from apps.orders.models import Order
from apps.orders.services import LineItem, PaymentInput, order_place
from apps.privacy_requests import services
from apps.privacy_requests.models import IdentityDocument, Kind, PrivacyRequest, Status
from tests.consents.factories import purpose
from tests.factories import AddressFactory, CustomerFactory, ProductFactory, UserFactory
from tests.privacy_requests.conftest import PDF, make_request, to_review

EMAIL = "ruriko.wanibuchi@example.net"
PERSON = {
    "family_name": "鰐淵",
    "given_name": "瑠璃子",
    "family_name_kana": "ワニブチ",
    "given_name_kana": "ルリコ",
    "phone": "080-7654-3210",
}
ADDRESS = {
    "recipient_name": "鰐淵 瑠璃子",
    "postal_code": "981-3203",
    "prefecture": "宮城県",
    "city": "仙台市泉区",
    "line1": "高森七丁目77-7",
    "line2": "ハイツ鰐淵303",
    "phone": "022-376-5432",
}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def person_everywhere(officer, capture):
    """One member with data in every app that holds personal data."""
    customer = CustomerFactory(
        user=UserFactory(email=EMAIL),
        email=EMAIL,
        date_of_birth=datetime.date(1988, 2, 29),
        **PERSON,
    )
    address = AddressFactory(customer=customer, is_default=True, **ADDRESS)
    AddressFactory(customer=customer, **{**ADDRESS, "line1": "旭町3-14-15", "line2": ""})
    product = ProductFactory()
    orders = [
        order_place(
            customer=customer,
            items=[LineItem(product.pk, n)],
            ship_to=address,
            payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
        )
        for n in (1, 2)
    ]
    # A logged-in session, and a failed login attempt recorded by the lockout (django-axes).
    Client().force_login(customer.user)
    Client().post("/accounts/login/", {"username": EMAIL, "password": "wrong-password-1"})
    inquiry_create(
        name=ADDRESS["recipient_name"],
        email=EMAIL,
        phone=PERSON["phone"],
        topic="order",
        message=f"届け先は〒{ADDRESS['postal_code']} {ADDRESS['line1']} です。",
    )
    # Consents with their context, a cookie choice carried over from a visitor id.
    consents.consent_grant(
        purpose=purpose("new_products"), source=Source.MYPAGE, customer=customer,
        evidence=consents.Evidence(ip_address="192.0.2.77", user_agent="Mozilla/5.0 (鰐淵のPC)"),
    )  # fmt: skip
    visitor = uuid.uuid4()
    consents.cookie_choice_record(
        choices={"advertising": True, "analytics": False}, visitor_id=visitor, wording="banner"
    )
    consents.visitor_link(visitor_id=visitor, customer=customer)
    # A record of provision to a third party (kept 3 years: it names the recipient only).
    consents.provision_record_create(
        customers=[customer], recipient_name="宮城県警察本部", recipient_address="仙台市青葉区",
        data_items="氏名、住所、電話番号", basis=ProvisionRecord.Basis.POLICE,
        legal_reference="捜査関係事項照会 第123号",
    )  # fmt: skip
    # A mail-magazine subscription, and a campaign delivered to them.
    magazine = MailMagazine.objects.create(
        name="Weekly", slug="weekly", purpose=purpose("newsletter"),
        from_name="Shop", from_email="news@shop.test",
    )  # fmt: skip
    subscription = marketing.subscription_subscribe_member(
        customer=customer, magazine=magazine, ip_address="192.0.2.77"
    )
    campaign = Campaign.objects.create(
        magazine=magazine, subject="Spring", body_text="Hello {name}", status=Campaign.Status.SENT
    )
    Delivery.objects.create(
        campaign=campaign, customer=customer, subscription=subscription,
        status=Delivery.Status.SENT, message_id=f"<c{campaign.pk}.d1@shop.test>",
    )  # fmt: skip
    # Earlier requests: one with a free-text note and a scanned document, one disclosure whose
    # package (everything about them) sits in private storage.
    with capture(execute=True):
        older = make_request(
            customer, kind=Kind.STOP_OF_USE, details=f"電話 {PERSON['phone']} への連絡をやめて"
        )
    services.privacy_request_start_verification(privacy_request=older, by=officer)
    services.identity_document_add(
        privacy_request=older,
        purpose=IdentityDocument.Purpose.IDENTITY,
        document_type=IdentityDocument.DocumentType.PASSPORT,
        upload=SimpleUploadedFile("passport.pdf", PDF + EMAIL.encode()),
        by=officer,
    )
    with capture(execute=True):  # its withdrawal notice goes out
        services.privacy_request_withdraw(privacy_request=older, by=officer, note="電話で取り下げ")
    with capture(execute=True):
        disclosure = to_review(make_request(customer, kind=Kind.DISCLOSURE), officer)
        services.privacy_request_approve(privacy_request=disclosure, by=officer)
        services.privacy_request_carry_out(privacy_request=disclosure, by=officer)
    assert PrivacyRequest.objects.get(pk=disclosure.pk).package
    return customer, orders


@pytest.mark.postgres
def test_after_erasure_no_column_of_any_table_and_no_file_holds_the_person(
    officer, private_root, media_root, django_capture_on_commit_callbacks
):
    customer, orders = person_everywhere(officer, django_capture_on_commit_callbacks)
    needles = scan.needles_for_customer(customer)
    assert set(needles) == {"name", "kana", "email", "phone", "postal_code", "street"}
    # The scan finds the person before: it is able to fail.
    before = scan.scan(needles)
    found = {hit.where.split(".")[0] for hit in before if not hit.where.startswith("file:")}
    assert {
        "customers_customer", "customers_address", "customers_inquiry", "customers_user",
        "orders_order", "privacy_requests_privacyrequest", "axes_accessattempt",
        "consents_consenteventcontext",
    } <= found  # fmt: skip
    assert any(hit.where.startswith("file:disclosures/") for hit in before)
    assert any(hit.where.startswith("file:identity/") for hit in before)

    with django_capture_on_commit_callbacks(execute=True):
        erasure = services.privacy_request_create_from_mypage(customer=customer, kind=Kind.ERASURE)
        services.privacy_request_approve(privacy_request=erasure, by=officer)
        services.privacy_request_carry_out(privacy_request=erasure, by=officer)
    erasure.refresh_from_db()
    assert erasure.status == Status.COMPLETED and erasure.contact_erased_at

    assert [str(hit) for hit in scan.scan(needles)] == []
    # What the law makes the shop keep is still there, without the person.
    for order in orders:
        kept = Order.objects.get(pk=order.pk)
        assert (kept.number, kept.total, kept.placed_at) == (
            order.number,
            order.total,
            order.placed_at,
        )
        assert kept.use_suspended and kept.hold_until


def test_the_matcher_finds_variants_and_ignores_digits_inside_longer_numbers():
    matcher = scan.Matcher(
        {"phone": ["080-7654-3210"], "postal_code": ["981-3203"], "kana": ["ワニブチ"]}
    )
    assert matcher.kinds_in("tel:08076543210") == {"phone"}
    assert matcher.kinds_in("〒9813203 仙台市") == {"postal_code"}
    assert matcher.kinds_in('{"kana": "わにぶち"}') == {"kana"}
    assert matcher.kinds_in('"\\u30ef\\u30cb\\u30d6\\u30c1"') == {"kana"}
    assert matcher.kinds_in("a3f9813203bc") == set()  # inside a hex digest
    assert matcher.kinds_in("nothing here") == set()
