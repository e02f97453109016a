"""Carrying out approved requests, in this process (eager tasks, on commit)."""

import io
import json
import re
import zipfile

import pytest
from django.core import mail

from apps.core.privacy import personal_data_erase
from apps.customers.models import Address, Customer, User
from apps.orders.models import Order
from apps.privacy_requests import services
from apps.privacy_requests.models import (
    DisclosureForm,
    IdentityDocument,
    Kind,
    PrivacyRequest,
    Status,
)
from tests.privacy_requests.conftest import PDF, make_request, to_review

pytestmark = pytest.mark.django_db


def approve_and_carry_out(pr, officer, capture):
    with capture(execute=True):
        pr = to_review(pr, officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    return PrivacyRequest.objects.get(pk=pr.pk)


def test_correction_applies_atomically_and_the_mail_says_what_changed(
    customer, officer, smtp_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pr = services.privacy_request_create_from_mypage(
            customer=customer,
            kind=Kind.CORRECTION,
            requested_changes={"phone": "03-1111-2222", "family_name_kana": "たなか"},
        )
        assert pr.status == Status.REVIEW  # a member's own request from My Page
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    customer.refresh_from_db()
    assert customer.phone == "03-1111-2222" and customer.family_name_kana == "タナカ"
    assert pr.applied_changes == {
        "phone": ["090-1234-5678", "03-1111-2222"],
        "family_name_kana": ["ヤマダ", "タナカ"],
    }
    completion = [
        m["message"] for m in smtp_settings.messages if "is complete" in m["message"]["Subject"]
    ]
    assert len(completion) == 1
    body = completion[0].get_content()
    assert "phone: 090-1234-5678 → 03-1111-2222" in body
    assert "family name (kana): ヤマダ → タナカ" in body
    assert smtp_settings.messages[-1]["to"] == [customer.email]
    # The timeline names the fields, never the values.
    notes = " ".join(pr.events.values_list("note", flat=True))
    assert "03-1111-2222" not in notes and "phone" in notes


def test_a_correction_that_no_longer_validates_goes_back_to_review(
    customer, officer, django_capture_on_commit_callbacks
):
    other = User.objects.create_user(email="taken@example.com", password="x")
    pr = make_request(
        customer, kind=Kind.CORRECTION, requested_changes={"email": "new@example.com"}
    )
    # Meanwhile somebody else took the address (and the requested phone stays valid).
    User.objects.filter(pk=other.pk).update(email="new@example.com")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.REVIEW
    assert pr.events.filter(step="carry_out_failed").exists()
    customer.refresh_from_db()
    assert customer.email != "new@example.com"


def test_erasure_in_process_and_twice(
    person_with_order, officer, django_capture_on_commit_callbacks
):
    customer, order = person_with_order
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(customer, kind=Kind.ERASURE)
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.COMPLETED
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED and not customer.family_name
    assert not Address.objects.filter(customer=customer).exists()
    order.refresh_from_db()
    assert order.use_suspended and order.ship_name == "" and order.total
    assert pr.erasure_report["kept"]["orders.Order"][0] == 1
    # The completion mail says what was kept, why and until when; then the contact goes.
    completion = [m for m in mail.outbox if "is complete" in m.subject]
    assert len(completion) == 1
    body = completion[0].body
    assert "What we keep, why, and until when" in body
    assert order.hold_until.isoformat() in body and "7 years" in body
    assert pr.requester_email == "" and pr.requester_name == "" and pr.contact_erased_at
    # Running the task again, or the erasure again, changes nothing more.
    before = list(PrivacyRequest.objects.values())
    assert services.privacy_request_execute(privacy_request_id=pr.pk) is False
    assert not personal_data_erase(customer_id=customer.pk).changed_anything
    assert list(PrivacyRequest.objects.values()) == before


def test_erasure_removes_the_persons_request_contents_and_documents(
    customer, officer, private_root, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        older = make_request(customer, kind=Kind.STOP_OF_USE, details="私の電話番号 090-1234-5678")
    services.identity_document_add(
        privacy_request=older,
        purpose=IdentityDocument.Purpose.IDENTITY,
        document_type=IdentityDocument.DocumentType.PASSPORT,
        upload=SimpleUploadedFile("p.pdf", PDF),
        by=officer,
    )
    with django_capture_on_commit_callbacks(execute=True):  # its withdrawal notice goes out
        services.privacy_request_withdraw(privacy_request=older, by=officer)
    preview = personal_data_erase(customer_id=customer.pk, dry_run=True)
    assert preview.deleted["privacy_requests.IdentityDocument"] == 1
    assert IdentityDocument.objects.count() == 1  # a dry run changes nothing
    pr = make_request(customer, kind=Kind.ERASURE)
    approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    older.refresh_from_db()
    assert older.details == "" and older.requester_email == "" and older.requester_name == ""
    assert not IdentityDocument.objects.exists()
    assert not [p for p in private_root.rglob("*") if p.is_file()]
    assert older.reference and older.kind == Kind.STOP_OF_USE  # the record of the answer stays


def test_stop_of_use_goes_through_the_registry(
    customer, officer, django_capture_on_commit_callbacks
):
    from apps.core import privacy

    calls = []

    def restricter(customer_id, scope, *, active):
        calls.append((customer_id, scope, active))
        return 1

    privacy.register(
        "test_restricter", exporter=lambda _id: {}, eraser=lambda *a, **k: privacy.ErasureReport(),
        covers={}, restricter=restricter,
    )  # fmt: skip
    try:
        pr = approve_and_carry_out(
            make_request(customer, kind=Kind.STOP_OF_PROVISION),
            officer,
            django_capture_on_commit_callbacks,
        )
    finally:
        privacy._registry.pop("test_restricter")
    assert pr.status == Status.COMPLETED
    assert calls == [(customer.pk, "stop_provision", True)]
    assert pr.restriction_result["changed"]["test_restricter"] == 1


def test_electronic_disclosure_builds_a_package(
    person_with_order, officer, private_root, django_capture_on_commit_callbacks
):
    customer, order = person_with_order
    pr = approve_and_carry_out(
        make_request(customer, kind=Kind.DISCLOSURE), officer, django_capture_on_commit_callbacks
    )
    assert pr.status == Status.COMPLETED and pr.package and pr.package_expires_at
    with pr.package.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    names = set(archive.namelist())
    assert {
        "data.json",
        "index.html",
        "csv/customers-profile.csv",
        "csv/orders-orders.csv",
    } <= names
    data = json.loads(archive.read("data.json"))
    assert data["customers"]["profile"][0]["family_name"] == "山田"
    assert data["orders"]["orders"][0]["number"] == order.number
    assert data["privacy_requests"]["requests"][0]["reference"] == pr.reference
    assert "山田" in archive.read("index.html").decode()
    assert re.fullmatch(rf"disclosures/{pr.pk}/[0-9a-f]{{32}}\.zip", pr.package.name)
    assert any("download" in m.body.lower() for m in mail.outbox if "complete" in m.subject)


def test_paper_disclosure_waits_for_staff(customer, officer, django_capture_on_commit_callbacks):
    pr = make_request(
        customer,
        kind=Kind.DISCLOSURE,
        disclosure_form=DisclosureForm.PAPER,
        requester_postal_address="〒150-0001 東京都渋谷区神宮前1-2-3",
    )
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.CARRYING_OUT and not pr.package
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_complete(privacy_request=pr, by=officer, answer="Sent by post.")
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED


def test_purpose_notification_is_answered_from_the_purpose_table(
    customer, officer, django_capture_on_commit_callbacks
):
    from apps.consents.models import Purpose

    Purpose.objects.filter(code="remarketing").update(is_active=False)
    pr = make_request(customer, kind=Kind.PURPOSE_NOTIFICATION, language="ja")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.COMPLETED
    active = list(Purpose.objects.filter(is_active=True).order_by("sort_order", "pk"))
    assert pr.answer.startswith("当店は、お客様の個人情報を次の目的で利用いたします。")
    for number, purpose in enumerate(active, start=1):
        assert f"{number}. {purpose.name_ja}" in pr.answer
        assert purpose.description_ja in pr.answer
    assert "リマーケティング広告" not in pr.answer  # inactive purposes are not listed
    assert "ご同意いただいた場合に限ります" in pr.answer  # opt-in purposes say so
    completion = [m for m in mail.outbox if "complete" in m.subject or "完了" in m.subject]
    assert pr.answer in completion[-1].body


def test_purpose_notification_in_english(customer, officer, django_capture_on_commit_callbacks):
    pr = make_request(customer, kind=Kind.PURPOSE_NOTIFICATION, language="en")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.answer.startswith("We use your personal information for the following purposes:")
    assert "1. Selling and delivering products" in pr.answer


def test_purpose_notification_by_post_waits_for_staff_with_the_letter_ready(
    customer, officer, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    pr = make_request(
        customer,
        kind=Kind.PURPOSE_NOTIFICATION,
        requester_email="",
        requester_postal_address="〒980-0811 仙台市青葉区一番町1-1",
    )
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.CARRYING_OUT and "1. " in pr.answer
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_complete(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED and "1. " in pr.answer
    with pytest.raises(ValidationError):  # a completed request cannot be completed again
        services.privacy_request_complete(privacy_request=pr, by=officer, answer="x")


def test_carry_out_refused_when_nobody_matches(officer):
    pr = make_request(None, kind=Kind.ERASURE)
    PrivacyRequest.objects.filter(pk=pr.pk).update(status=Status.APPROVED)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="no data held"):
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    assert Order.objects.count() == 0


def test_a_japanese_erasure_notice_gives_every_reason_in_japanese(
    person_with_order, officer, django_capture_on_commit_callbacks
):
    """Each eraser's reason for keeping something is translated: no English left in the
    completion mail of a Japanese requester."""
    from apps.privacy_requests.models import Notice
    from apps.privacy_requests.services.notices import notice_render

    customer, order = person_with_order
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(customer, kind=Kind.ERASURE, language="ja")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    kept = pr.erasure_report["kept"]
    assert {"orders.Order", "privacy_requests.PrivacyRequest"} <= set(kept)
    _, body = notice_render(Notice.objects.get(privacy_request=pr, kind=Notice.Kind.COMPLETION))
    order.refresh_from_db()
    assert "法人税法" in body and order.hold_until.isoformat() in body
    assert "受け付け、回答した記録" in body
    for _count, why, _until in kept.values():
        assert why not in body  # the English reason never reaches a Japanese mail


def test_erasure_empties_the_reasons_staff_wrote_to_the_person(
    person_with_order, officer, django_capture_on_commit_callbacks
):
    customer, _order = person_with_order
    with django_capture_on_commit_callbacks(execute=True):
        older = to_review(make_request(customer, kind=Kind.DELETION), officer)
        services.privacy_request_reject(
            privacy_request=older, by=officer, reasons="山田様の注文 2024-0001 は保存義務の対象です"
        )
    pr = make_request(customer, kind=Kind.ERASURE)
    approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    older.refresh_from_db()
    assert (
        "山田" not in older.decision_reasons and older.outcome
    )  # the decision stays, not its words
