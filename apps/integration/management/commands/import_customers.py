"""manage.py import_customers FILE --format ecube|shopify|generic --client NAME [--dry-run] [--json]"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.integration.imports.formats import FORMATS
from apps.integration.imports.parsing import ImportFileError
from apps.integration.imports.service import customers_import, report_lines
from apps.integration.models import ApiClient


class Command(BaseCommand):
    help = (
        "Import customers from a shop system's CSV export (EC-CUBE 4 member CSV, Shopify "
        "customer CSV, or the generic CSV of docs/integration.md §7). All or nothing: a "
        "file with a row in error changes nothing. Exits with 1 when nothing was imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), dest="file_format")
        parser.add_argument(
            "--client",
            required=True,
            help="the API client (shop system) the file comes from: its ids are the file's ids",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change; change nothing"
        )
        parser.add_argument(
            "--json", action="store_true", help="end with the report as one JSON object"
        )

    def handle(self, *args, file, file_format, client, dry_run=False, json=False, **options):
        try:
            api_client = ApiClient.objects.get(name=client)
        except ApiClient.DoesNotExist as exc:
            raise CommandError(f"No API client is named {client!r}.") from exc
        try:
            with open(file, "rb") as handle:
                report = customers_import(
                    client=api_client, file=handle, file_format=file_format, dry_run=dry_run
                )
        except OSError as exc:
            raise CommandError(f"Cannot open the file: {exc.strerror}.") from exc
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for line in report_lines(report):
            self.stdout.write(line)
        if json:
            self.stdout.write(_json_dumps(report.as_dict()))
        if not dry_run and not report.applied:
            raise CommandError(f"Nothing imported: {report.error_rows} rows in error.")


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
