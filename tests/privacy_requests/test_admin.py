"""The admin: the privacy officer's queue and actions; Support may look and record, not decide
nor see identity documents."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.customers.services import inquiry_create
from apps.privacy_requests import services
from apps.privacy_requests.models import IdentityDocument, Kind, PrivacyRequest, Status
from tests.privacy_requests.conftest import PDF, make_request, to_review

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:privacy_requests_privacyrequest_changelist"


def _document(pr, officer):
    return services.identity_document_add(
        privacy_request=pr,
        purpose=IdentityDocument.Purpose.IDENTITY,
        document_type=IdentityDocument.DocumentType.PASSPORT,
        upload=SimpleUploadedFile("id.pdf", PDF),
        by=officer,
    )


def test_document_view_is_for_the_privacy_officer_only(client, customer, officer, support):
    pr = make_request(customer)
    document = _document(pr, officer)
    url = reverse("admin:privacy_requests_privacyrequest_document", args=[pr.pk, document.pk])
    client.force_login(support)
    assert client.get(url).status_code == 403
    change = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    assert change.status_code == 200 and url not in change.content.decode()
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert (
        url
        in client.get(
            reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk])
        ).content.decode()
    )


def test_private_files_are_not_under_media_url(client, customer, officer):
    pr = make_request(customer)
    document = _document(pr, officer)
    client.force_login(officer)
    assert client.get(f"/private-media/{document.file.name}").status_code == 404


def test_support_cannot_approve(client, customer, officer, support):
    pr = to_review(make_request(customer, kind=Kind.DELETION), officer)
    client.force_login(support)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    form = response.context["action_form"]
    actions = [name for name, _label in form.fields["action"].choices] if form else []
    assert "approve" not in actions and "reject" not in actions
    client.post(
        reverse(CHANGELIST), {"action": "approve", "_selected_action": [pr.pk], "apply": "1"}
    )
    pr.refresh_from_db()
    assert pr.status == Status.REVIEW


def test_officer_approves_and_rejects_through_actions(client, customer, officer):
    first = to_review(make_request(customer, kind=Kind.DELETION), officer)
    second = to_review(make_request(customer, kind=Kind.STOP_OF_USE), officer)
    client.force_login(officer)
    client.post(
        reverse(CHANGELIST), {"action": "approve", "_selected_action": [first.pk], "apply": "1"}
    )
    first.refresh_from_db()
    assert first.status == Status.APPROVED
    # Reject without reasons: the form comes back and nothing changes.
    response = client.post(
        reverse(CHANGELIST),
        {"action": "reject", "_selected_action": [second.pk], "apply": "1", "reasons": ""},
    )
    assert response.status_code == 200 and response.context["form"].errors
    second.refresh_from_db()
    assert second.status == Status.REVIEW
    client.post(
        reverse(CHANGELIST),
        {
            "action": "reject",
            "_selected_action": [second.pk],
            "apply": "1",
            "reasons": "Legal hold.",
        },
    )
    second.refresh_from_db()
    assert second.status == Status.REJECTED and second.decision_reasons == "Legal hold."


def test_an_illegal_action_shows_an_error(client, customer, officer):
    pr = make_request(customer, kind=Kind.ERASURE)
    client.force_login(officer)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "carry_out", "_selected_action": [pr.pk], "apply": "1", "confirm": "on"},
        follow=True,
    )
    assert "cannot become" in response.content.decode()
    pr.refresh_from_db()
    assert pr.status == Status.RECEIVED


def test_carrying_out_an_erasure_asks_for_confirmation_over_its_preview(
    client, person_with_order, officer, django_capture_on_commit_callbacks
):
    customer, _order = person_with_order
    pr = to_review(make_request(customer, kind=Kind.ERASURE), officer)
    services.privacy_request_approve(privacy_request=pr, by=officer)
    client.force_login(officer)
    action = {"action": "carry_out", "_selected_action": [pr.pk]}
    page = client.post(reverse(CHANGELIST), action)
    body = page.content.decode()
    assert page.status_code == 200 and "erasure preview" in body and "Addresses" in body
    # Applying without ticking the box changes nothing.
    page = client.post(reverse(CHANGELIST), {**action, "apply": "1"})
    assert page.context["form"].errors
    pr.refresh_from_db()
    assert pr.status == Status.APPROVED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(CHANGELIST), {**action, "apply": "1", "confirm": "on"})
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    # What it did reads like the preview, not like JSON.
    change = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    body = change.content.decode()
    assert "Erasure report" in body and "Addresses" in body
    assert '"deleted"' not in body and "customers.Address" not in body


def test_an_erasure_waits_for_the_person_s_other_open_requests(client, person_with_order, officer):
    customer, _order = person_with_order
    disclosure = make_request(customer, kind=Kind.DISCLOSURE)
    pr = to_review(make_request(customer, kind=Kind.ERASURE), officer)
    services.privacy_request_approve(privacy_request=pr, by=officer)
    client.force_login(officer)
    change = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    assert disclosure.reference in change.content.decode()  # the preview warns
    confirm = client.post(reverse(CHANGELIST), {"action": "carry_out", "_selected_action": [pr.pk]})
    assert "cannot be carried out yet" in confirm.content.decode()
    assert 'name="apply"' not in confirm.content.decode()  # no button to press
    response = client.post(
        reverse(CHANGELIST),
        {"action": "carry_out", "_selected_action": [pr.pk], "apply": "1", "confirm": "on"},
        follow=True,
    )
    assert "still open" in response.content.decode()
    pr.refresh_from_db()
    assert pr.status == Status.APPROVED
    services.privacy_request_withdraw(privacy_request=disclosure, by=officer)
    pr.refresh_from_db()
    services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.status in (Status.CARRYING_OUT, Status.COMPLETED)


def test_queue_highlights_overdue_and_due_soon(client, customer, officer):
    late = make_request(customer, received_at=timezone.now() - datetime.timedelta(days=20))
    soon = make_request(customer, received_at=timezone.now() - datetime.timedelta(days=12))
    client.force_login(officer)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "overdue" in page and "day(s) left" in page
    overdue = client.get(reverse(CHANGELIST), {"deadline": "overdue"})
    assert list(overdue.context["cl"].result_list) == [late]
    due_soon = client.get(reverse(CHANGELIST), {"deadline": "soon"})
    assert list(due_soon.context["cl"].result_list) == [soon]


def test_erasure_preview_on_the_change_page(client, person_with_order, officer):
    customer, _order = person_with_order
    pr = to_review(make_request(customer, kind=Kind.ERASURE), officer)
    client.force_login(officer)
    page = client.get(
        reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk])
    ).content.decode()
    assert "Addresses" in page and "Orders" in page and "7 years" in page
    assert "customers.Address" not in page  # people's words, not model labels
    customer.refresh_from_db()
    assert customer.family_name  # the preview changed nothing


def test_staff_record_a_letter_by_hand(client, customer, support):
    client.force_login(support)
    url = reverse("admin:privacy_requests_privacyrequest_add")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"kind": "disclosure", "law": "appi", "channel": "postal_mail",
                            "received_on": timezone.localdate().isoformat(),
                            "requester_type": "person", "requester_name": "山田 花子"})  # fmt: skip
    assert bad.status_code == 200 and not PrivacyRequest.objects.exists()
    response = client.post(url, {"kind": "disclosure", "law": "appi", "channel": "postal_mail",
                                 "received_on": timezone.localdate().isoformat(),
                                 "requester_type": "person", "requester_name": "山田 花子",
                                 "customer": customer.pk, "disclosure_form": "paper",
                                 "requester_postal_address": "〒150-0001 東京都渋谷区神宮前1-2-3"})  # fmt: skip
    assert response.status_code == 302
    pr = PrivacyRequest.objects.get()
    assert pr.channel == "postal_mail" and pr.customer == customer and pr.fee_status == "pending"
    assert pr.events.get().actor_user == support


def test_staff_turn_an_inquiry_into_a_request(client, customer, support):
    inquiry = inquiry_create(
        name="山田 花子", email=customer.email, topic="privacy", message="全部消してください"
    )
    client.force_login(support)
    client.post(
        reverse("admin:customers_inquiry_changelist"),
        {"action": "create_privacy_request", "_selected_action": [inquiry.pk], "apply": "1",
         "kind": "erasure", "law": "appi"},
    )  # fmt: skip
    pr = PrivacyRequest.objects.get()
    assert pr.inquiry == inquiry and pr.customer == customer and pr.channel == "inquiry_form"
    assert pr.kind == Kind.ERASURE and pr.details == "全部消してください"


def test_officer_uploads_a_document_checked_by_content(client, customer, officer, support):
    pr = make_request(customer)
    url = reverse("admin:privacy_requests_privacyrequest_document_add", args=[pr.pk])
    client.force_login(support)
    assert client.get(url).status_code == 403
    client.force_login(officer)
    fake = SimpleUploadedFile("license.png", b"GIF89a not really a png", "image/png")
    response = client.post(
        url, {"purpose": "identity", "document_type": "drivers_license", "file": fake}
    )
    assert response.status_code == 200 and "PDF, JPEG or PNG" in response.content.decode()
    assert not IdentityDocument.objects.exists()
    good = SimpleUploadedFile("license.pdf", PDF, "application/pdf")
    response = client.post(
        url, {"purpose": "identity", "document_type": "drivers_license", "file": good}
    )
    assert response.status_code == 302
    assert IdentityDocument.objects.get().uploaded_by == officer


def test_printable_page_for_a_paper_disclosure(
    client, customer, officer, support, django_capture_on_commit_callbacks
):
    pr = make_request(
        customer,
        kind=Kind.DISCLOSURE,
        disclosure_form="paper",
        language="en",
        requester_postal_address="〒150-0001 東京都渋谷区神宮前1-2-3",
    )
    url = reverse("admin:privacy_requests_privacyrequest_print", args=[pr.pk])
    change = reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk])
    client.force_login(support)
    assert client.get(url).status_code == 403
    client.force_login(officer)
    # Nothing of the person is printed before identity, approval and "carry out".
    assert client.get(url).status_code == 404
    assert url not in client.get(change).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        pr = to_review(pr, officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    assert url in client.get(change).content.decode()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200 and customer.family_name in page.content.decode()
    assert '<html lang="en"' in page.content.decode()  # the requester's language
    # Its stylesheet is allowed by this response's nonce, not by opening the policy.
    nonce = re.search(r'<style nonce="([^"]+)"', page.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in page["Content-Security-Policy"]
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    # Printing everything held about the person is in the access log, like a CSV export.
    from apps.audit.models import AccessLog

    logged = AccessLog.objects.filter(action="export", model_label="customers.Customer")
    assert list(logged.values_list("staff_user_id", "object_id")) == [
        (officer.pk, str(customer.pk))
    ]


def test_the_officer_sees_the_timeline(client, customer, officer):
    pr = make_request(customer, kind=Kind.DISCLOSURE, by=officer)
    client.force_login(officer)
    page = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    inlines = [type(inline.opts).__name__ for inline in page.context["inline_admin_formsets"]]
    assert "RequestEventInline" in inlines
    assert "Timeline" in page.content.decode()


def test_printable_letter_for_a_purpose_notification_shows_the_purposes_not_the_person(
    client, customer, officer, django_capture_on_commit_callbacks
):
    pr = make_request(
        customer, kind=Kind.PURPOSE_NOTIFICATION, requester_email="", requester_postal_address="x"
    )
    url = reverse("admin:privacy_requests_privacyrequest_print", args=[pr.pk])
    client.force_login(officer)
    assert client.get(url).status_code == 404  # no answer yet
    with django_capture_on_commit_callbacks(execute=True):
        pr = to_review(pr, officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    page = client.get(url).content.decode()
    assert "Selling and delivering products" in page
    assert customer.family_name not in page and customer.phone not in page


POSTAL = "〒980-0811 宮城県仙台市青葉区一番町1-1"


def test_a_requester_without_e_mail_gets_letters_that_staff_post(
    client, person_with_order, officer, django_capture_on_commit_callbacks
):
    from django.core import mail

    from apps.privacy_requests.models import Notice, RequestEvent

    customer, _order = person_with_order
    outbox = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(
            customer, kind=Kind.ERASURE, requester_email="", requester_postal_address=POSTAL
        )
    receipt = Notice.objects.get(privacy_request=pr, kind=Notice.Kind.RECEIPT)
    assert receipt.sent_at is None and len(mail.outbox) == outbox  # nothing can be e-mailed

    client.force_login(officer)
    to_post = client.get(reverse(CHANGELIST), {"letters": "to_post"})
    assert list(to_post.context["cl"].result_list) == [pr]
    change = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    letter_url = reverse("admin:privacy_requests_privacyrequest_letter", args=[pr.pk, receipt.pk])
    assert letter_url in change.content.decode()
    letter = client.get(letter_url).content.decode()
    assert POSTAL in letter and pr.reference in letter
    from apps.audit.models import AccessLog

    assert AccessLog.objects.filter(
        action="view", model_label="privacy_requests.PrivacyRequest", object_id=str(pr.pk)
    ).exists()
    assert "<p>--" not in letter and "\n--\n" not in letter  # no e-mail signature line on paper

    client.post(reverse(CHANGELIST), {"action": "mark_letters_posted", "_selected_action": [pr.pk]})
    receipt.refresh_from_db()
    assert receipt.sent_at is not None
    posted = pr.events.get(step=RequestEvent.Step.NOTICE_POSTED)
    assert posted.actor_user == officer
    assert not client.get(reverse(CHANGELIST), {"letters": "to_post"}).context["cl"].result_list
    again = client.post(
        reverse(CHANGELIST),
        {"action": "mark_letters_posted", "_selected_action": [pr.pk]},
        follow=True,
    )
    assert "No letter is waiting" in again.content.decode()

    # The erasure's completion is a letter too; the postal address goes once it is posted.
    with django_capture_on_commit_callbacks(execute=True):
        pr = to_review(pr, officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED and pr.requester_postal_address == POSTAL
    completion = Notice.objects.get(privacy_request=pr, kind=Notice.Kind.COMPLETION)
    services.notice_mark_posted(notice_id=completion.pk, by=officer)
    services.notice_mark_posted(
        notice_id=Notice.objects.get(privacy_request=pr, kind="decision").pk, by=officer
    )
    pr.refresh_from_db()
    assert pr.requester_postal_address == "" and pr.contact_erased_at


def test_an_e_mailed_notice_is_not_marked_posted(customer, officer):
    from django.core.exceptions import ValidationError

    from apps.privacy_requests.models import Notice

    pr = make_request(customer, kind=Kind.STOP_OF_USE)
    notice = Notice.objects.get(privacy_request=pr, kind=Notice.Kind.RECEIPT)
    with pytest.raises(ValidationError, match="e-mailed"):
        services.notice_mark_posted(notice_id=notice.pk, by=officer)


def test_the_next_steps_are_buttons_on_the_request_s_own_page(client, customer, officer):
    pr = to_review(make_request(customer, kind=Kind.STOP_OF_USE), officer)
    change = reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk])
    client.force_login(officer)
    page = client.get(change).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page
    assert 'value="carry_out"' not in page and 'value="record_fee"' not in page
    # A step with a form comes back to the request's page once applied.
    step = {"action": "reject", "_selected_action": [pr.pk], "index": "0",
            "back_to_request": str(pr.pk)}  # fmt: skip
    form = client.post(reverse(CHANGELIST), step)
    assert 'name="back_to_request"' in form.content.decode()
    done = client.post(
        reverse(CHANGELIST),
        {"action": "reject", "_selected_action": [pr.pk], "apply": "1",
         "reasons": "Nothing of this kind is held.", "back_to_request": str(pr.pk)},
    )  # fmt: skip
    assert done.status_code == 302 and done["Location"] == change
    pr.refresh_from_db()
    assert pr.status == Status.REJECTED
    assert 'value="reject"' not in client.get(change).content.decode()  # a closed request


def test_support_sees_no_decision_buttons_nor_links_it_may_not_open(
    client, customer, officer, support
):
    pr = make_request(
        customer, kind=Kind.STOP_OF_USE, requester_email="", requester_postal_address=POSTAL
    )
    pr = to_review(pr, officer)
    client.force_login(support)
    page = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    body = page.content.decode()
    assert 'value="approve"' not in body
    assert "/letter/" not in body and "/documents/add/" not in body
    assert "letters=to_post" not in client.get(reverse(CHANGELIST)).content.decode()
    client.force_login(officer)
    body = client.get(
        reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk])
    ).content.decode()
    assert "/letter/" in body


def test_an_undelivered_letter_does_not_keep_an_erased_person_s_address_for_ever(
    customer, officer, django_capture_on_commit_callbacks
):
    from apps.privacy_requests.models import RequestEvent

    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(
            customer, kind=Kind.ERASURE, requester_email="", requester_postal_address=POSTAL
        )
        pr = to_review(pr, officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED and pr.requester_postal_address == POSTAL
    # Nobody posts the letters. The daily purge waits PRIVACY_DOCUMENT_RETENTION_DAYS...
    assert services.privacy_requests_purge()["contacts"] == 0
    pr.refresh_from_db()
    assert pr.requester_postal_address == POSTAL
    # ... then lets the address go, saying so on the timeline.
    later = timezone.now() + datetime.timedelta(days=31)
    assert services.privacy_requests_purge(now=later)["contacts"] == 1
    pr.refresh_from_db()
    assert pr.requester_postal_address == "" and pr.requester_name == ""
    erased = pr.events.get(step=RequestEvent.Step.CONTACT_ERASED)
    assert erased.note.startswith("undelivered notices: ")
    assert services.privacy_requests_purge(now=later)["contacts"] == 0


def test_the_person_on_file_is_shown_beside_the_requester(client, customer, officer, support):
    url = reverse("admin:privacy_requests_privacyrequest_add")
    client.force_login(support)
    response = client.post(url, {"kind": "stop_of_use", "law": "appi", "channel": "postal_mail",
                                 "received_on": timezone.localdate().isoformat(),
                                 "requester_type": "person", "requester_name": "佐藤 一郎",
                                 "customer": customer.pk, "language": "en",
                                 "requester_postal_address": POSTAL})  # fmt: skip
    assert response.status_code == 302
    pr = PrivacyRequest.objects.get()
    assert pr.language == "en"  # notices and letters in English
    client.force_login(officer)
    page = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    body = page.content.decode()
    assert customer.full_name in body
    assert "differs from the person on file" in body
    PrivacyRequest.objects.filter(pk=pr.pk).update(requester_name=customer.full_name)
    page = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    assert "differs from the person on file" not in page.content.decode()


def test_recording_a_withdrawal_asks_how_and_for_confirmation(
    client, customer, officer, django_capture_on_commit_callbacks
):
    from django.core import mail

    pr = make_request(customer, kind=Kind.DISCLOSURE)
    client.force_login(officer)
    action = {"action": "withdraw", "_selected_action": [pr.pk], "apply": "1"}
    page = client.post(reverse(CHANGELIST), {**action, "note": "letter of 2026-11-20"})
    assert page.context["form"].errors  # not confirmed
    pr.refresh_from_db()
    assert pr.status != Status.WITHDRAWN
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse(CHANGELIST), {**action, "note": "letter of 2026-11-20", "confirm": "on"}
        )
    pr.refresh_from_db()
    assert pr.status == Status.WITHDRAWN
    assert pr.events.get(step="withdrawn").note == "letter of 2026-11-20"
    (notice,) = [m for m in mail.outbox if "was withdrawn" in m.subject]
    assert "No fee is due." in notice.body  # the disclosure's fee was still pending


def test_staff_record_with_a_10000_digit_new_value_is_a_form_error(client, support):
    """Corrections were typed as JSON, whose 10,000-digit number was a 500; they are now one
    input per field, and a value no field takes is that field's error."""
    client.force_login(support)
    response = client.post(
        reverse("admin:privacy_requests_privacyrequest_add"),
        {"kind": "correction", "law": "appi", "channel": "postal_mail",
         "received_on": timezone.localdate().isoformat(), "requester_type": "person",
         "requester_name": "山田 花子", "phone": "9" * 10_000},
    )  # fmt: skip
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not PrivacyRequest.objects.exists()


def test_an_action_with_a_10000_digit_back_to_request_goes_to_the_list(client, customer, officer):
    """int() of more than 4,300 digits raised ValueError after the action had run: a 500."""
    pr = make_request(customer)
    client.force_login(officer)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "start_verification", "_selected_action": [pr.pk], "index": "0",
         "back_to_request": "9" * 10_000},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
