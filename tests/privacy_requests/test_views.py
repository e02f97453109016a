"""My Page: a member makes and follows their own requests; anybody else's answer 404."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.privacy_requests import services
from apps.privacy_requests.models import Kind, PrivacyRequest, Status
from tests.factories import CustomerFactory
from tests.privacy_requests.conftest import make_request, to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, customer):
    client.force_login(customer.user)
    return customer


def test_side_menu_links_to_requests(client, member):
    page = client.get(reverse("mypage:overview")).content.decode()
    assert reverse("privacy_requests:list") in page


def test_member_files_a_request_and_follows_it(client, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("privacy_requests:create"),
            {"kind": Kind.STOP_OF_USE, "law": "appi", "details": "メルマガ不要"},
        )
    pr = PrivacyRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy_requests:detail", args=[pr.reference])
    assert pr.customer == member and pr.status == Status.REVIEW and pr.channel == "mypage"
    detail = client.get(response["Location"]).content.decode()
    assert pr.reference in detail and "Identity verified" in detail
    listing = client.get(reverse("privacy_requests:list")).content.decode()
    assert pr.reference in listing


def test_bad_input_gives_a_message_and_writes_nothing(client, member):
    for data in (
        {"kind": "gdpr_portability", "law": "appi"},
        {"kind": "correction", "law": "appi"},
        {"kind": "correction", "law": "appi", "phone": "12"},
        {"kind": "nonsense", "law": "appi"},
        {"kind": "disclosure", "law": "appi", "disclosure_form": ""},
    ):
        response = client.post(reverse("privacy_requests:create"), data)
        assert response.status_code == 200, data
        assert response.context["form"].errors, data
    assert not PrivacyRequest.objects.exists()


def test_another_members_request_is_404(client, member):
    other = CustomerFactory()
    theirs = make_request(other, kind=Kind.DISCLOSURE)
    for name in ("detail",):
        assert (
            client.get(reverse(f"privacy_requests:{name}", args=[theirs.reference])).status_code
            == 404
        )
    for name in ("withdraw", "code"):
        assert (
            client.post(reverse(f"privacy_requests:{name}", args=[theirs.reference])).status_code
            == 404
        )
    theirs.refresh_from_db()
    assert theirs.status == Status.RECEIVED


def _completed_disclosure(customer, officer, capture):
    with capture(execute=True):
        pr = to_review(make_request(customer, kind=Kind.DISCLOSURE), officer)
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    return PrivacyRequest.objects.get(pk=pr.pk)


def test_download_own_package_only(client, member, officer, django_capture_on_commit_callbacks):
    pr = _completed_disclosure(member, officer, django_capture_on_commit_callbacks)
    detail = client.get(reverse("privacy_requests:detail", args=[pr.reference]))
    url = detail.context["download_url"]
    assert url and member.email not in url and member.family_name not in url
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content).startswith(b"PK")
    # Tampered token.
    assert client.get(url[:-3] + "xyz/").status_code == 404
    # Another member, with the very same link.
    other = CustomerFactory()
    client.force_login(other.user)
    assert client.get(url).status_code == 404
    client.force_login(member.user)
    # Expired.
    PrivacyRequest.objects.filter(pk=pr.pk).update(
        package_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("privacy_requests:detail", args=[pr.reference])).context["download_url"]
        is None
    )


def test_another_members_download_link_is_404(
    client, member, officer, django_capture_on_commit_callbacks
):
    other = CustomerFactory()
    theirs = _completed_disclosure(other, officer, django_capture_on_commit_callbacks)
    token = services.download_token(privacy_request=theirs)
    url = reverse("privacy_requests:download", args=[theirs.reference, token])
    assert client.get(url).status_code == 404


def test_member_withdraws(client, member, django_capture_on_commit_callbacks):
    pr = make_request(member, kind=Kind.ERASURE)
    url = reverse("privacy_requests:withdraw", args=[pr.reference])
    # Without the confirmation nothing happens.
    response = client.post(url, follow=True)
    assert "Confirm that you want to withdraw" in response.content.decode()
    pr.refresh_from_db()
    assert pr.status != Status.WITHDRAWN
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    pr.refresh_from_db()
    assert pr.status == Status.WITHDRAWN
    # Twice: refused with a message, nothing changes.
    client.post(url, {"confirm": "yes"})
    assert pr.events.filter(step="withdrawn").count() == 1
    # The requester is told, once.
    from django.core import mail

    withdrawn = [m for m in mail.outbox if "was withdrawn" in m.subject]
    assert len(withdrawn) == 1 and withdrawn[0].to == [member.email]
    # A closed request shows no deadline and no fee owed.
    page = client.get(reverse("privacy_requests:detail", args=[pr.reference])).content.decode()
    assert "We answer by" not in page and "Withdraw this request" not in page


def test_a_withdrawn_paid_request_owes_nothing(client, member):
    pr = make_request(member, kind=Kind.DISCLOSURE)
    assert pr.fee_status == "pending"
    detail = reverse("privacy_requests:detail", args=[pr.reference])
    assert "1,000" in client.get(detail).content.decode()
    client.post(reverse("privacy_requests:withdraw", args=[pr.reference]), {"confirm": "yes"})
    page = client.get(detail).content.decode()
    assert "1,000" not in page and "We answer by" not in page


def test_the_new_request_form_needs_a_choice_and_says_what_costs_what(client, member):
    url = reverse("privacy_requests:create")
    page = client.get(url).content.decode()
    assert "1,000 yen" in page and "account is closed for good" in page
    response = client.post(url, {"kind": "", "law": "appi"})
    assert "Choose what you request." in response.content.decode()
    assert not PrivacyRequest.objects.exists()
    # A bad value in an addition gets its own error, not also "enter the new values".
    response = client.post(url, {"kind": "addition", "law": "appi", "phone": "abc"})
    body = response.content.decode()
    assert "Enter the new values" not in body and not PrivacyRequest.objects.exists()


def test_member_enters_the_code_on_my_page(client, member, officer):
    from tests.privacy_requests.conftest import send_code_and_read

    pr = make_request(member, kind=Kind.STOP_OF_USE)
    code = send_code_and_read(pr, officer)
    page = client.get(reverse("privacy_requests:detail", args=[pr.reference])).content.decode()
    assert "one-time code" in page
    client.post(
        reverse("privacy_requests:code", args=[pr.reference]),
        {"code": "000000" if code != "000000" else "111111"},
    )
    pr.refresh_from_db()
    assert pr.status == Status.IDENTITY and pr.code_attempts == 1
    client.post(reverse("privacy_requests:code", args=[pr.reference]), {"code": code})
    pr.refresh_from_db()
    assert pr.status == Status.REVIEW


def test_login_required(client):
    assert client.get(reverse("privacy_requests:list")).status_code == 302


def test_a_paper_disclosure_goes_to_one_of_the_member_s_addresses(client, member):
    from tests.factories import AddressFactory

    url = reverse("privacy_requests:create")
    paper = {"kind": "disclosure", "law": "appi", "disclosure_form": "paper"}
    response = client.post(url, paper)
    assert "Choose the address to post it to" in response.content.decode()
    assert not PrivacyRequest.objects.exists()
    home = AddressFactory(customer=member, is_default=True)
    other = AddressFactory(customer=CustomerFactory())
    response = client.post(url, {**paper, "postal_address": other.pk})  # not theirs
    assert response.status_code == 200 and not PrivacyRequest.objects.exists()
    response = client.post(url, {**paper, "postal_address": home.pk, "details": "全部ください"})
    assert response.status_code == 302
    pr = PrivacyRequest.objects.get()
    assert pr.requester_postal_address == home.one_line
    # The member's page says what they asked for and where it goes.
    page = client.get(reverse("privacy_requests:detail", args=[pr.reference])).content.decode()
    assert "全部ください" in page and home.one_line in page and "Paper" in page


def test_a_birth_date_in_the_future_is_refused(client, member):
    response = client.post(
        reverse("privacy_requests:create"),
        {"kind": "addition", "law": "appi", "date_of_birth": "2999-01-01"},
    )
    assert "cannot be in the future" in response.content.decode()
    assert not PrivacyRequest.objects.exists()


@pytest.mark.parametrize(("kind", "preselected"), [("erasure", "erasure"), ("nope\x00", None)])
def test_a_link_with_kind_preselects_it_and_junk_is_ignored(client, member, kind, preselected):
    response = client.get(reverse("privacy_requests:create"), {"kind": kind})
    assert response.status_code == 200
    assert response.context["form"].initial.get("kind") == preselected
