"""Importing a shop system's customer file: ``customers_import``.

The file is read row by row (``apps/integration/imports/formats.py``) and handed in chunks of
``IMPORT_CHUNK_SIZE`` rows to the services the API uses: ``customers_upsert`` (people, by the
client's ids) and then ``consent_events_apply`` (withdrawals, and the grants the generic format
proves). Nothing about people is decided here; this module counts.

**All or nothing.** The whole file is one transaction. If any row is in error, nothing is
committed and the report lists every row in error with its line number: the privacy officer
fixes the file and runs it again (an import is idempotent: people are keyed by the client's ids,
a second run finds them unchanged). A half-applied file would be harder to reason about than a
refused one, and the dry run shows the same errors beforehand. Rows the rules refuse (a person
erased or restricted here, a grant older than the person's later choice) and members who left
the shop are not errors: they are counted and listed, and the other rows are applied.

**The dry run is the real run, rolled back.** Customers are written inside the transaction (so
the consent events of people the file creates are checked exactly as the real run checks them),
the consent ledger is asked for its own dry run, and the transaction is always rolled back. Its
counts are the real run's, as long as the data does not change in between.

Reports hold counts, line numbers, column names and messages: never a cell's value, so they can
be shown, printed and logged.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from apps.consents.models import Purpose
from apps.integration.imports.formats import FORMATS, ExportFormat
from apps.integration.imports.parsing import ParsedRow
from apps.integration.ingest.consents import consent_events_apply
from apps.integration.ingest.customers import customers_upsert
from apps.integration.models import ApiClient

logger = logging.getLogger(__name__)

# How many rows are listed in a report (every one is counted).
LISTED_ROWS = 500
# How many changed rows a report shows as a sample of the diff.
SAMPLE_ROWS = 20


@dataclass
class RowProblem:
    line: int
    # The file's column (or "non_field_errors") -> messages.
    errors: dict[str, list[str]]


@dataclass
class ImportReport:
    format: str
    client: str
    dry_run: bool
    # True once a real run has committed the file.
    applied: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Members who had left the shop (EC-CUBE's 退会): not imported.
    skipped_left: int = 0
    # People erased, restricted or who asked to stop the use of their data: left untouched.
    conflicts: int = 0
    # Addresses on the suppression list: they stay there.
    suppressed: int = 0
    consents_granted: int = 0
    consents_withdrawn: int = 0
    # The ledger already held the same answer.
    consents_unchanged: int = 0
    # Grants with evidence the ledger refused (older than a later choice, widened purpose).
    consents_refused: int = 0
    # "Yes" in a column that carries no evidence (a mail-magazine flag): never granted.
    grants_without_evidence: int = 0
    error_rows: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    # Rows the rules left out (conflicts, refused grants), with the reason.
    refusals: list[RowProblem] = field(default_factory=list)
    # Field name -> for how many existing customers it changes (values are never shown).
    changed_fields: Counter = field(default_factory=Counter)
    # A few updated rows: {"line", "fields"}.
    sample: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return round(self.rows / self.seconds, 1) if self.seconds else 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["changed_fields"] = dict(self.changed_fields.most_common())
        data["rows_per_second"] = self.rows_per_second
        data["seconds"] = round(self.seconds, 3)
        return data

    # ------------------------------------------------------------------ collecting

    def _problem(self, listing: list[RowProblem], row: ParsedRow, errors: dict) -> None:
        if len(listing) < LISTED_ROWS:
            listing.append(RowProblem(line=row.line, errors=errors))

    def row_error(self, row: ParsedRow, errors: dict[str, list[str]]) -> None:
        self.error_rows += 1
        self._problem(self.errors, row, errors)

    def refused(self, row: ParsedRow, errors: dict[str, list[str]]) -> None:
        self._problem(self.refusals, row, errors)


def _chunks(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _columns(fmt: ExportFormat, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The services name our fields; the report names the file's columns."""
    named: dict[str, list[str]] = {}
    for name, messages in errors.items():
        named.setdefault(fmt.column_for(name), []).extend(messages)
    return named


def _import_chunk(
    *,
    client: ApiClient,
    fmt: ExportFormat,
    rows: list[ParsedRow],
    report: ImportReport,
    apply,
    actor=None,
) -> None:
    ready: list[ParsedRow] = []
    for row in rows:
        report.rows += 1
        if row.errors:
            report.row_error(row, row.errors)
        elif row.skipped:
            report.skipped_left += 1
        else:
            ready.append(row)
    if not ready:
        return
    # Written even in a dry run (the transaction is rolled back): the consent events below are
    # then checked against the people as the real run would find them.
    results = customers_upsert(client=client, items=[row.customer for row in ready], dry_run=False)
    events, owners = [], []
    for row, result in zip(ready, results, strict=True):
        if result.status == "error":
            report.row_error(row, _columns(fmt, result.errors))
            continue
        if result.status == "conflict":
            report.conflicts += 1
            report.refused(row, _columns(fmt, result.errors))
            continue
        if result.status == "created":
            report.created += 1
        elif result.status == "updated":
            report.updated += 1
            report.changed_fields.update(result.changed)
            if len(report.sample) < SAMPLE_ROWS:
                report.sample.append({"line": row.line, "fields": list(result.changed)})
        else:
            report.unchanged += 1
        report.suppressed += result.suppressed
        report.grants_without_evidence += row.grants_without_evidence
        for event in row.consents:
            events.append(event)
            owners.append(row)
    if not events:
        return
    outcomes = consent_events_apply(client=client, items=events, dry_run=not apply(), actor=actor)
    for row, event, outcome in zip(owners, events, outcomes, strict=True):
        if outcome.status == "recorded":
            if event.action == "grant":
                report.consents_granted += 1
            else:
                report.consents_withdrawn += 1
        elif outcome.status == "unchanged":
            report.consents_unchanged += 1
        elif outcome.status in ("refused", "conflict"):
            report.consents_refused += 1
            report.refused(row, _columns(fmt, outcome.errors))
        else:
            report.row_error(row, _columns(fmt, outcome.errors))


def customers_import(
    *,
    client: ApiClient,
    file: BinaryIO,
    file_format: str,
    dry_run: bool,
    chunk_size: int | None = None,
    actor=None,
) -> ImportReport:
    """Import ``file`` (a binary file, in ``file_format``: ecube, shopify or generic) as
    ``client``'s customers; the file's customer ids are the client's external ids. Raises
    ``ImportFileError`` (nothing changed) when the file cannot be read as that format. See the
    module's docstring for what is applied when. ``actor``: the staff user running it from the
    admin, named on the consent events it writes."""
    fmt = FORMATS[file_format](purposes=set(Purpose.objects.values_list("code", flat=True)))
    report = ImportReport(format=file_format, client=client.name, dry_run=dry_run)
    size = chunk_size or settings.IMPORT_CHUNK_SIZE
    started = time.monotonic()

    def apply() -> bool:
        # Once a row is in error nothing will be committed: the rest is only checked.
        return not dry_run and not report.error_rows

    with transaction.atomic():
        for chunk in _chunks(fmt.rows(file), size):
            _import_chunk(
                client=client, fmt=fmt, rows=chunk, report=report, apply=apply, actor=actor
            )
        report.applied = apply()
        if not report.applied:
            transaction.set_rollback(True)
    report.seconds = time.monotonic() - started
    # A chunk lists the parser's errors before the services': the report reads in file order.
    report.errors.sort(key=lambda problem: problem.line)
    report.refusals.sort(key=lambda problem: problem.line)
    logger.info(
        "customers import client_id=%s format=%s dry_run=%s applied=%s rows=%s created=%s "
        "updated=%s unchanged=%s conflicts=%s error_rows=%s withdrawn=%s granted=%s seconds=%.1f",
        client.pk,
        file_format,
        dry_run,
        report.applied,
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.conflicts,
        report.error_rows,
        report.consents_withdrawn,
        report.consents_granted,
        report.seconds,
    )
    return report


def report_lines(report: ImportReport) -> list[str]:
    """The report in words, for the command's output (the admin renders its own page)."""
    if report.dry_run:
        head = _("Dry run: nothing was changed. The import would do this:")
    elif report.applied:
        head = _("Imported:")
    else:
        head = _(
            "Not imported: %(count)d rows are in error, and nothing was changed. Fix them and "
            "run the import again."
        ) % {"count": report.error_rows}
    lines = [
        head,
        _("rows read: %(n)d") % {"n": report.rows},
        _("new customers: %(n)d") % {"n": report.created},
        _("updated: %(n)d") % {"n": report.updated},
        _("unchanged: %(n)d") % {"n": report.unchanged},
        _("members who left the shop (not imported): %(n)d") % {"n": report.skipped_left},
        _("erased or restricted people (left untouched): %(n)d") % {"n": report.conflicts},
        _("e-mail addresses on the suppression list (they stay there): %(n)d")
        % {"n": report.suppressed},
        _("consents granted: %(n)d") % {"n": report.consents_granted},
        _("consents that would be granted: refused without an evidence column: %(n)d")
        % {"n": report.grants_without_evidence},
        _("consent grants refused by the ledger's rules: %(n)d") % {"n": report.consents_refused},
        _("consents withdrawn: %(n)d") % {"n": report.consents_withdrawn},
        _("consent answers already recorded: %(n)d") % {"n": report.consents_unchanged},
        _("rows in error: %(n)d") % {"n": report.error_rows},
    ]
    if report.changed_fields:
        fields = ", ".join(f"{name} ({count})" for name, count in report.changed_fields.items())
        lines.append(_("fields changed on existing customers: %(fields)s") % {"fields": fields})
    for problem in report.errors:
        for column, messages in problem.errors.items():
            lines.append(
                _("line %(line)d, %(column)s: %(messages)s")
                % {"line": problem.line, "column": column, "messages": " ".join(messages)}
            )
    if report.error_rows > len(report.errors):
        lines.append(
            _("... and %(n)d more rows in error.") % {"n": report.error_rows - len(report.errors)}
        )
    for problem in report.refusals:
        for column, messages in problem.errors.items():
            lines.append(
                _("line %(line)d, not applied (%(column)s): %(messages)s")
                % {"line": problem.line, "column": column, "messages": " ".join(messages)}
            )
    return lines
