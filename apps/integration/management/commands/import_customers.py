"""manage.py import_customers FILE --format ecube|shopify|generic --client NAME [--dry-run] [--json]"""

from __future__ import annotations

import contextlib
import gc
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
            with open(file, "rb") as handle, _few_collections():
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


@contextlib.contextmanager
def _few_collections():
    """An import makes millions of short-lived objects; each of the collector's full passes
    walked every object Django and the apps had loaded, and those passes grew with the file (a
    quarter of the CPU of 100,000 rows, measured by bench_ingest). The objects that exist before
    the import are set aside (``gc.freeze``) and the youngest generation collected less often;
    both are put back afterwards."""
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
