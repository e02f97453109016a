"""manage.py import_customers: the summary, --json, --dry-run, and clear failures."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from apps.customers.models import Customer
from apps.integration.models import ApiClient
from tests.imports.files import ecube_csv, ecube_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ApiClient.objects.create(name="ec-cube shop", system=ApiClient.System.ECCUBE)


def command(*args):
    from io import StringIO

    out = StringIO()
    call_command("import_customers", *args, stdout=out)
    return out.getvalue()


def test_the_command_imports_and_prints_the_summary_and_json(shop, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(
        ecube_csv([ecube_member(1), ecube_member(2, **{"メールマガジン送付について": "0"})])
    )
    out = command(str(path), "--format", "ecube", "--client", "ec-cube shop", "--json")
    assert "new customers: 2" in out and "consents withdrawn: 1" in out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["applied"] and report["created"] == 2 and report["grants_without_evidence"] == 1
    assert report["rows_per_second"] > 0
    assert Customer.objects.count() == 2
    assert "member1@example.jp" not in out and "山田" not in out


def test_the_dry_run_option_changes_nothing(shop, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(ecube_csv([ecube_member(1)]))
    out = command(str(path), "--format", "ecube", "--client", "ec-cube shop", "--dry-run")
    assert out.startswith("Dry run") and "new customers: 1" in out
    assert Customer.objects.count() == 0


def test_rows_in_error_fail_the_command_with_their_lines(shop, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(ecube_csv([ecube_member(1), ecube_member(2, **{"郵便番号": "12"})]))
    with pytest.raises(CommandError, match="1 rows in error"):
        command(str(path), "--format", "ecube", "--client", "ec-cube shop")
    assert Customer.objects.count() == 0


def test_a_wrong_format_or_client_or_file_is_a_clear_error(shop, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(ecube_csv([ecube_member(1)]))
    with pytest.raises(CommandError, match="EC-CUBE"):
        command(str(path), "--format", "shopify", "--client", "ec-cube shop")
    with pytest.raises(CommandError, match="No API client"):
        command(str(path), "--format", "ecube", "--client", "nobody")
    with pytest.raises(CommandError, match="Cannot open"):
        command(str(tmp_path / "missing.csv"), "--format", "ecube", "--client", "ec-cube shop")
