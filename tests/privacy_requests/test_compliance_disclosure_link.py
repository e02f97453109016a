"""Non-members get their electronic disclosure (issue 15, "Requests"): the completion mail holds
an expiring link (its token hashed at rest), which opens the package only after a one-time code
sent to the address on file; few attempts, then a new code. A member still uses My Page."""

import datetime
import hashlib
import logging
import re

import pytest
from django.core import mail
from django.utils import timezone

from apps.privacy_requests.models import Kind, PrivacyRequest
from tests.factories import GuestFactory
from tests.privacy_requests.conftest import make_request
from tests.privacy_requests.test_carry_out import approve_and_carry_out

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+?(/disclosure/([A-Za-z0-9_-]{20,})/)")
CODE = re.compile(r"[:：] ?(\d{6})(?!\d)")


@pytest.fixture
def guest_disclosure(officer, django_capture_on_commit_callbacks):
    guest = GuestFactory()
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(guest, kind=Kind.DISCLOSURE, channel="email", language="en")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    assert pr.package
    [completion] = [m for m in mail.outbox if "is complete" in m.subject]
    path, token = LINK.search(completion.body).groups()
    return guest, pr, path, token


def ask_for_code(client, path, capture) -> str:
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(path + "code/")
    assert response.status_code == 302
    [message] = mail.outbox
    return message, CODE.search(message.body).group(1)


def test_a_non_member_downloads_after_a_code_to_the_address_on_file(
    client, guest_disclosure, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    guest, pr, path, token = guest_disclosure
    pr.refresh_from_db()
    # Hashed at rest: the database holds no working link.
    assert pr.link_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(PrivacyRequest.objects.values()))

    page = client.get(path)
    assert page.status_code == 200 and "one-time code" in page.content.decode()
    assert client.get(path + "download/").status_code == 404  # not before the code

    message, code = ask_for_code(client, path, django_capture_on_commit_callbacks)
    assert message.to == [guest.email]
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(path, {"code": wrong})
    assert response.status_code == 200 and "wrong" in response.content.decode()
    assert client.get(path + "download/").status_code == 404
    response = client.post(path, {"code": code})
    assert response.status_code == 302 and response["Location"] == path + "download/"
    download = client.get(path + "download/")
    assert download.status_code == 200 and download.streaming
    assert b"".join(download.streaming_content).startswith(b"PK")
    assert pr.events.filter(step="download_unlocked").exists()
    # The code works once; another browser with the link alone gets nothing.
    assert client.post(path, {"code": code}).status_code == 200
    client.logout()
    assert client.get(path + "download/").status_code == 404
    assert token not in caplog.text and code not in caplog.text


def test_the_link_expires_with_the_package(client, guest_disclosure):
    _, pr, path, _token = guest_disclosure
    assert client.get(path).status_code == 200
    PrivacyRequest.objects.filter(pk=pr.pk).update(
        package_expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert client.get(path).status_code == 404
    assert client.post(path + "code/").status_code == 404
    assert client.get(path.replace(_token, "x" * 43)).status_code == 404  # a made-up token


def test_an_expired_code_is_refused(client, guest_disclosure, django_capture_on_commit_callbacks):
    _, pr, path, _token = guest_disclosure
    _message, code = ask_for_code(client, path, django_capture_on_commit_callbacks)
    PrivacyRequest.objects.filter(pk=pr.pk).update(
        link_code_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.post(path, {"code": code})
    assert response.status_code == 200 and "expired" in response.content.decode()
    assert client.get(path + "download/").status_code == 404


def test_few_attempts_then_a_new_code(
    client, guest_disclosure, settings, django_capture_on_commit_callbacks
):
    settings.PRIVACY_CODE_MAX_ATTEMPTS = 3
    _, _pr, path, _token = guest_disclosure
    _message, code = ask_for_code(client, path, django_capture_on_commit_callbacks)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        client.post(path, {"code": wrong})
    client.post(path, {"code": code})  # right, but too late: this code is spent
    assert client.get(path + "download/").status_code == 404
    _message, code = ask_for_code(client, path, django_capture_on_commit_callbacks)
    assert client.post(path, {"code": code}).status_code == 302
    assert client.get(path + "download/").status_code == 200


def test_a_member_still_downloads_from_my_page(
    customer, officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pr = make_request(customer, kind=Kind.DISCLOSURE, language="en")
    pr = approve_and_carry_out(pr, officer, django_capture_on_commit_callbacks)
    [completion] = [m for m in mail.outbox if "is complete" in m.subject]
    assert "My Page" in completion.body and not LINK.search(completion.body)
    assert pr.link_token_hash == ""
