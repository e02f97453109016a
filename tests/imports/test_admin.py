"""The admin's import page: upload -> dry-run report -> the same file again -> imported; only
the privacy officer and the administrator; a wrong file or format is a clear message."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.core import roles
from apps.customers.models import Customer
from apps.integration.models import ApiClient, ExternalCustomer
from tests.factories import make_staff
from tests.imports.files import ecube_csv, ecube_member, shopify_csv, shopify_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ApiClient.objects.create(name="ec-cube shop", system=ApiClient.System.ECCUBE)


@pytest.fixture
def officer(client):
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    return client


def url(shop):
    return reverse("admin:integration_apiclient_import", args=[shop.pk])


def upload(data: bytes, name="members.csv"):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_upload_then_dry_run_report_then_confirm_imports(officer, shop):
    data = ecube_csv([ecube_member(1), ecube_member(2, **{"メールマガジン送付について": "0"})])
    page = officer.get(url(shop))
    assert page.status_code == 200 and 'value="ecube" selected' in page.content.decode()

    preview = officer.post(url(shop), {"file_format": "ecube", "file": upload(data)})
    assert preview.status_code == 200
    assert preview.templates[0].name == "admin/integration/import_preview.html"
    report = preview.context["report"]
    assert (report.created, report.consents_withdrawn, report.grants_without_evidence) == (2, 1, 1)
    html = preview.content.decode()
    assert "member1@example.jp" not in html and "山田" not in html  # counts, not values
    assert Customer.objects.count() == 0

    done = officer.post(url(shop), {"confirm": "1", "file": upload(data)})
    assert done.status_code == 200 and done.context["report"].applied
    assert ExternalCustomer.objects.filter(client=shop).count() == 2


def test_confirming_another_file_than_the_one_checked_is_refused(officer, shop):
    officer.post(url(shop), {"file_format": "ecube", "file": upload(ecube_csv([ecube_member(1)]))})
    other = ecube_csv([ecube_member(1), ecube_member(666)])
    response = officer.post(url(shop), {"confirm": "1", "file": upload(other)})
    assert "not the file the dry run checked" in response.content.decode()
    assert Customer.objects.count() == 0


def test_confirming_without_a_dry_run_is_refused(officer, shop):
    response = officer.post(
        url(shop), {"confirm": "1", "file": upload(ecube_csv([ecube_member(1)]))}
    )
    assert response.status_code == 302 and Customer.objects.count() == 0


def test_rows_in_error_show_their_lines_and_offer_no_import(officer, shop):
    data = ecube_csv([ecube_member(1), ecube_member(2, **{"郵便番号": "12"})])
    preview = officer.post(url(shop), {"file_format": "ecube", "file": upload(data)})
    html = preview.content.decode()
    assert 'id="import-errors"' in html and "<td>3</td><td>郵便番号</td>" in html
    assert 'name="confirm"' not in html


def test_a_wrong_format_or_encoding_is_a_clear_message_on_the_form(officer, shop):
    response = officer.post(
        url(shop), {"file_format": "ecube", "file": upload(shopify_csv([shopify_customer(1)]))}
    )
    assert response.templates[0].name == "admin/integration/import_upload.html"
    errors = response.context["form"].errors["file"][0]
    assert "会員ID" in errors and "Shopify" in errors
    broken = "external_id,family_name\n1,山田\n".encode("cp932")
    response = officer.post(url(shop), {"file_format": "generic", "file": upload(broken)})
    assert "UTF-8" in response.context["form"].errors["file"][0]


def test_a_file_over_the_limit_is_refused_before_it_is_read(officer, shop, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1024
    data = ecube_csv([ecube_member(n) for n in range(50)])
    response = officer.post(url(shop), {"file_format": "ecube", "file": upload(data)})
    assert "too large" in response.context["form"].errors["file"][0]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.MARKETING])
def test_support_and_marketing_cannot_import(client, shop, role):
    client.force_login(make_staff(role))
    assert client.get(url(shop)).status_code in (302, 403)
    response = client.post(
        url(shop), {"file_format": "ecube", "file": upload(ecube_csv([ecube_member(1)]))}
    )
    assert response.status_code in (302, 403) and Customer.objects.count() == 0


def test_the_action_opens_the_import_page_for_one_client(officer, shop):
    response = officer.post(
        reverse("admin:integration_apiclient_changelist"),
        {"action": "import_customers", "_selected_action": [shop.pk]},
    )
    assert response.status_code == 302 and response["Location"] == url(shop)
