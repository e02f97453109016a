"""CSV the shop writes, safe to open in a spreadsheet.

Cells come from people (an inquiry's message, a recipient's name typed by staff), and a
spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula: ``=HYPERLINK(...)`` planted through the contact form would
send whoever opens a disclosure to any site. Following OWASP's "CSV Injection" guidance, such a
text cell is prefixed with ``'`` (shown as text, never run) and every field is quoted.

Numbers the program itself holds (``int``, ``float``, ``Decimal``) are written as they are, so
a real negative amount stays a number; a *text* cell "-5" is prefixed like any other, as OWASP
advises, because text is where a formula can hide.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


class SafeWriter:
    """``csv.writer`` that neutralises formula-leading cells and quotes every field."""

    def __init__(self, out) -> None:
        self._writer = csv.writer(out, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out) -> SafeWriter:
    return SafeWriter(out)
