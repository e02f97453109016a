"""Real Chromium through a disclosure request end to end: a member files it on My Page
(electronic form), the privacy officer logs into the admin with a second factor and records the
fee, approves and carries it out, a real Celery worker builds the package, and the member
downloads it from My Page. Another member gets 404 for the request and its download link."""

import io
import json
import zipfile

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core import roles
from apps.privacy_requests.models import Kind, PrivacyRequest, Status
from tests.conftest import wait_until
from tests.factories import PASSWORD, CustomerFactory, UserFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.postgres]


@pytest.fixture
def shared_private_root(settings, tmp_path, monkeypatch):
    """The live server (this process) and the worker (a subprocess) see the same private
    storage: the worker writes the package, the live server streams it."""
    root = tmp_path / "private"
    settings.PRIVACY_PRIVATE_ROOT = root
    monkeypatch.setenv("PRIVACY_PRIVATE_ROOT", str(root))
    return root


@pytest.fixture
def worker(shared_private_root, request):
    return request.getfixturevalue("celery_worker_process")


def new_page(browser, locale="en-US"):
    context = browser.new_context(locale=locale, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def member_login(page, base, email):
    page.goto(f"{base}/accounts/login/?next=/mypage/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("main form [type=submit]")
    page.wait_for_url(f"{base}/mypage/")
    if page.locator("#cookie-banner").is_visible():
        page.click("#cookie-banner button[value=necessary]")


def run_action(page, base, pr, action, fields=None):
    page.goto(f"{base}/admin/privacy_requests/privacyrequest/")
    page.check(f"input[name=_selected_action][value='{pr.pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    if fields is not None:  # the action asks for details first
        for selector, value in fields.items():
            if value is True:
                page.check(selector)
            elif selector.startswith("select"):
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        page.click("input[name=apply]")
    page.wait_for_selector(".messagelist .success")


def test_member_files_officer_approves_worker_builds_member_downloads(
    live_server, worker, browser, settings
):
    settings.ADMIN_REQUIRE_2FA = True
    base = live_server.url
    member = CustomerFactory(
        user=UserFactory(email="kaori.hayashi@example.jp"),
        family_name="林",
        given_name="香織",
        family_name_kana="ハヤシ",
        given_name_kana="カオリ",
    )
    other = CustomerFactory(user=UserFactory(email="other.member@example.jp"))
    officer = make_staff(roles.PRIVACY_OFFICER, email="officer@shop.test")
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)

    # The member files a disclosure request on My Page, electronic form.
    page = new_page(browser)
    member_login(page, base, member.email)
    page.goto(f"{base}/mypage/requests/new/")
    page.select_option("#id_kind", Kind.DISCLOSURE)
    page.select_option("#id_disclosure_form", "electronic")
    page.click("main form [type=submit]")
    page.wait_for_url(f"{base}/mypage/requests/PR-*/")
    pr = PrivacyRequest.objects.get(customer=member)
    assert page.url.endswith(f"/mypage/requests/{pr.reference}/")
    assert pr.status == Status.FEE  # their login verified them; the APPI fee is due
    assert page.locator("a[href*='/download/']").count() == 0

    # The privacy officer, with a second factor, records the fee, approves and carries out.
    staff = new_page(browser)
    staff.goto(f"{base}/admin/login/?next=/admin/")
    staff.fill("#id_username", officer.email)
    staff.fill("#id_password", PASSWORD)
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    staff.fill("#id_otp_token", f"{token:0{device.digits}d}")
    staff.click("[type=submit]")
    staff.wait_for_url(f"{base}/admin/")
    run_action(staff, base, pr, "record_fee", {"select[name=fee_status]": "received"})
    run_action(staff, base, pr, "approve", {})
    run_action(staff, base, pr, "carry_out", {"input[name=confirm]": True})

    # The real worker builds the package.
    wait_until(
        lambda: PrivacyRequest.objects.filter(pk=pr.pk, status=Status.COMPLETED).exists(),
        timeout=60,
    )
    pr.refresh_from_db()
    assert pr.package and (worker.log_path.read_text().count("succeeded") >= 1)

    # The member downloads it from My Page.
    page.goto(f"{base}/mypage/requests/{pr.reference}/")
    link = page.locator("a[href*='/download/']")
    download_url = link.get_attribute("href")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"{pr.reference}.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115
    data = json.loads(archive.read("data.json"))
    assert data["customers"]["profile"][0]["family_name"] == "林"
    assert data["privacy_requests"]["requests"][0]["reference"] == pr.reference
    assert "香織" in archive.read("index.html").decode()

    # Another member: the request and the very same link answer 404, and give no data.
    intruder = new_page(browser)
    member_login(intruder, base, other.email)
    for url in (f"/mypage/requests/{pr.reference}/", download_url):
        response = intruder.request.get(f"{base}{url}")
        assert response.status == 404, url
        assert "林" not in response.text()
