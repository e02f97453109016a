"""Reading an export file one row at a time.

A file is read through ``csv`` over a text wrapper of the binary file: one row is in memory at a
time, whatever the file's size. Each format (``apps/integration/imports/formats.py``) maps its
columns onto the shared shapes of ``apps/integration/ingest/types.py`` and yields a
``ParsedRow`` per data row, with the number of the line the row starts on (the header is line 1)
so that every message can point at it.

What makes the whole file unreadable (wrong encoding, not the chosen format, broken quoting)
raises ``ImportFileError`` with a message for people; what is wrong with one row is kept in that
row's ``errors``, keyed by the file's own column name, and the other rows carry on. Messages never
quote a cell: a cell is a person's data.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integration.ingest.types import ConsentEventIn, CustomerIn


class ImportFileError(Exception):
    """The file as a whole cannot be read as the chosen format; the message says why."""


@dataclass
class ParsedRow:
    line: int
    external_id: str = ""
    customer: CustomerIn | None = None
    consents: tuple[ConsentEventIn, ...] = ()
    # The file's "yes" to a purpose without the evidence a grant needs: never granted.
    grants_without_evidence: int = 0
    # Why the row is deliberately left out (e.g. a member who left the shop); not an error.
    skipped: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        messages = self.errors.setdefault(column, [])
        if message not in messages:
            messages.append(message)


Cells = Callable[[str], str]


def sniff_encoding(raw: BinaryIO, candidates: tuple[str, ...]) -> str:
    """The first of ``candidates`` that decodes the header line (a UTF-8 byte-order mark wins).
    The file is left at its start."""
    first = raw.readline()
    raw.seek(0)
    if first.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in candidates:
        try:
            first.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return candidates[-1]


def header_of(raw: BinaryIO, encoding: str) -> list[str] | None:
    """The header cells of ``raw`` read as ``encoding`` (None if it does not decode). The file is
    left at its start."""
    first = raw.readline()
    raw.seek(0)
    try:
        text = first.decode(encoding)
    except UnicodeDecodeError:
        return None
    try:
        cells = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return None
    return [clean_header(cell) for cell in cells]


def clean_header(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell.lstrip("\ufeff")).strip()


def read_rows(raw: BinaryIO, encoding: str, *, describe: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row, the header first. ``describe`` names the expected
    encoding in messages.

    The file is decoded a line at a time (a newline byte is never part of a character in UTF-8
    or Shift_JIS), so a line that does not decode is named by its number."""
    physical = 0

    def lines() -> Iterator[str]:
        nonlocal physical
        decoder = codecs.getincrementaldecoder(encoding)()
        for chunk in raw:
            physical += 1
            try:
                yield decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    _(
                        "The file is not in %(encoding)s (line %(line)d cannot be read). Save "
                        "or export it again in %(encoding)s, or choose the right format."
                    )
                    % {"encoding": describe, "line": physical}
                ) from exc

    reader = csv.reader(lines(), strict=True)
    while True:
        line = physical + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                _("The file is not a valid CSV from line %(line)d (quotes do not match).")
                % {"line": line}
            ) from exc
        yield line, cells


def cells_getter(index: dict[str, int], cells: list[str]) -> Cells:
    def get(column: str) -> str:
        position = index.get(column)
        if position is None or position >= len(cells):
            return ""
        return cells[position].strip()

    return get


DATE_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T].*)?")


def parse_date(value: str) -> datetime.date:
    """'1990-04-01', '1990/4/1' and EC-CUBE's '1990-04-01 00:00:00'."""
    match = DATE_RE.fullmatch(unicodedata.normalize("NFKC", value))
    if not match:
        raise ValueError(value)
    year, month, day = (int(part) for part in match.groups())
    return datetime.date(year, month, day)


def parse_datetime(value: str) -> datetime.datetime:
    """ISO 8601; without an offset, the shop's time zone (TIME_ZONE)."""
    moment = datetime.datetime.fromisoformat(unicodedata.normalize("NFKC", value).strip())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


YES = "yes"
NO = "no"


def parse_flag(value: str, *, yes: set[str], no: set[str]) -> str | None:
    """YES, NO or None (blank: the file says nothing). Raises ValueError for anything else."""
    value = unicodedata.normalize("NFKC", value).strip().lower()
    if not value:
        return None
    if value in yes:
        return YES
    if value in no:
        return NO
    raise ValueError(value)
