"""What every format shares: reading the header, the rows, and the mail-magazine flag."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from django.utils.translation import gettext as _

from apps.customers.validators import PREFECTURES
from apps.integration.imports.parsing import (
    NO,
    YES,
    Cells,
    ImportFileError,
    ParsedRow,
    cells_getter,
    header_of,
    parse_date,
    parse_flag,
    read_rows,
    sniff_encoding,
)
from apps.integration.ingest.types import ConsentEventIn

# The purpose a mail-magazine flag speaks for (apps/consents' seeded purposes).
MAIL_MAGAZINE_PURPOSE = "newsletter"
# Consents learnt from a file are recorded with this source (apps.consents.models.Source).
IMPORT_SOURCE = "import"
ACQUIRED_VIA_IMPORT = "import"


def required_message() -> str:
    return _("This column is required.")


class ExportFormat:
    code: ClassVar[str]
    label: ClassVar[str]
    # Encodings to try on the header line, in order.
    encodings: ClassVar[tuple[str, ...]]
    # How the expected encoding is named in messages.
    describe: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    # Our field names (as the ingest services report errors) -> the file's column.
    columns: ClassVar[dict[str, str]] = {}

    def __init__(self, *, purposes: set[str] | None = None) -> None:
        # The purpose codes that exist (for the generic format's consent columns).
        self.purposes = purposes

    def column_for(self, field: str) -> str:
        """The file's column for an error the services report on ``field`` ("email",
        "addresses.0.postal_code", "evidence.policy_version")."""
        for part in (field, field.rsplit(".", 1)[-1]):
            if part in self.columns:
                return self.columns[part]
        return field

    # ------------------------------------------------------------------ reading

    def rows(self, raw: BinaryIO) -> Iterator[ParsedRow]:
        encoding = sniff_encoding(raw, self.encodings)
        header = header_of(raw, encoding)
        if not header or header == [""]:
            if header is None:
                raise ImportFileError(self._not_this_format(raw, missing=None))
            raise ImportFileError(_("The file is empty."))
        missing = [column for column in self.required if column not in header]
        if missing:
            raise ImportFileError(self._not_this_format(raw, missing=missing))
        self.check_header(header)
        # The first occurrence of a repeated column name wins.
        index = {name: position for position, name in reversed(list(enumerate(header)))}
        lines = read_rows(raw, encoding, describe=self.describe)
        next(lines)
        for line, cells in lines:
            if not any(cell.strip() for cell in cells):
                continue
            row = ParsedRow(line=line)
            self.parse_row(row, cells_getter(index, cells))
            if row.errors or row.skipped:
                row.customer, row.consents = None, ()
            yield row

    def check_header(self, header: list[str]) -> None:
        """Refuse a header that is this format's but cannot be imported as it is."""

    def parse_row(self, row: ParsedRow, get: Cells) -> None:
        raise NotImplementedError

    def _not_this_format(self, raw: BinaryIO, *, missing: list[str] | None) -> str:
        if missing is None:
            message = _("The file's first line cannot be read as %(encoding)s.") % {
                "encoding": self.describe
            }
        else:
            message = _("This is not %(format)s: the columns %(columns)s are missing.") % {
                "format": self.label,
                "columns": ", ".join(missing),
            }
        from apps.integration.imports.formats import FORMATS

        for other in FORMATS.values():
            if other is type(self):
                continue
            header = header_of(raw, sniff_encoding(raw, other.encodings))
            if header and all(column in header for column in other.required):
                return (
                    message
                    + " "
                    + _("It looks like %(format)s: choose that format.") % {"format": other.label}
                )
        return (
            message
            + " "
            + _("Check the format you chose, and that the file starts with its header line.")
        )

    # ------------------------------------------------------------------ shared pieces

    @staticmethod
    def date_of_birth(row: ParsedRow, get: Cells, column: str):
        value = get(column)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError:
            row.error(column, _("Enter a date such as 1990-04-01."))
            return None


def prefecture_by_number(value: str) -> str | None:
    """'13', 'JP-13' -> 東京都 (JIS X 0401 order, as EC-CUBE's mtb_pref and ISO 3166-2:JP)."""
    match = re.fullmatch(r"(?:JP-)?(\d{1,2})", unicodedata.normalize("NFKC", value).upper())
    if match and 1 <= int(match.group(1)) <= len(PREFECTURES):
        return PREFECTURES[int(match.group(1)) - 1]
    return None


def mail_magazine_flag(row: ParsedRow, get: Cells, column: str, *, yes, no) -> None:
    """A flag without evidence: "no" withdraws, "yes" is only counted."""
    try:
        flag = parse_flag(get(column), yes=yes, no=no)
    except ValueError:
        row.error(column, _("Write yes or no (or leave it empty)."))
        return
    if flag == YES:
        row.grants_without_evidence += 1
    elif flag == NO:
        row.consents = (
            ConsentEventIn(
                customer_external_id=row.external_id,
                purpose=MAIL_MAGAZINE_PURPOSE,
                action="withdraw",
                source=IMPORT_SOURCE,
            ),
        )
