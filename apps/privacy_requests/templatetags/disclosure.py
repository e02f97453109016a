"""The disclosure page in words a customer reads.

`personal_data_export` gives raw values: handler and section keys, field names, choice codes,
UTC datetimes and nested dicts. Each app declares, with its exporter, how its sections read
(`apps.core.privacy.Section`: a title, an explanation, labelled columns); this module only lays
them out, so that it knows no app's models, fields or words. `{% disclosure_sections data as
sections %}` turns the data into titled tables of display values and `{% disclosure_cell cell %}`
renders one value. A section or field no app declared is still shown, under a readable
fallback, so a new exporter field can neither break the page nor go missing from it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from apps.core.display import NOTHING, display_value
from apps.core.privacy import Column, declared_sections
from apps.core.privacy import Section as Declared

register = template.Library()

__all__ = ["NOTHING", "Cell", "Section", "Table", "disclosure_cell", "disclosure_sections"]

# Sections with more columns than this show each record as its own label/value table: a dozen
# columns side by side can be neither read on screen nor printed.
MAX_GRID_COLUMNS = 5


@dataclass(frozen=True)
class Cell:
    """One displayed value: a text, a few lines (a nested record) or a small table (a nested
    list of records, such as an order's lines)."""

    text: str = ""
    lines: tuple[str, ...] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @property
    def records(self) -> list[list[tuple[str, Cell]]]:
        """Each row as (header, cell) pairs, for a record shown as a label/value table."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Section:
    title: str
    explanation: str
    table: Table

    @property
    def as_records(self) -> bool:
        return len(self.table.headers) > MAX_GRID_COLUMNS


def _fallback(key: str) -> Column:
    return Column(key, key.replace("_", " ").capitalize())


class _Formatter:
    """Display values of one section: each column's labels are looked up once (the purposes'
    names take a query), then used for every row."""

    def __init__(self) -> None:
        self._labels: dict[int, Any] = {}

    def labels(self, column: Column):
        if column.choices is None:
            return None
        # Declared columns live as long as the process: their ids are stable keys.
        if id(column) not in self._labels:
            self._labels[id(column)] = column.labels()
        return self._labels[id(column)]

    def table(
        self, rows: list[dict], columns: tuple[Column, ...], keys: list[str] | None = None
    ) -> Table:
        declared = {column.key: column for column in columns}
        if keys is None:
            keys = _keys(rows)
        used = [declared.get(key) or _fallback(key) for key in keys]
        return Table(
            headers=tuple(str(column.label) for column in used),
            rows=tuple(
                tuple(
                    self.cell(row[column.key], column) if column.key in row else Cell(text=NOTHING)
                    for column in used
                )
                for row in rows
            ),
        )

    def cell(self, value: Any, column: Column) -> Cell:
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return Cell(table=self.table(value, column.children()))
        if isinstance(value, dict | list) and value:
            return Cell(lines=self.lines(value, column))
        return Cell(text=self.text(value, column))

    def lines(self, value: dict | list, column: Column) -> tuple[str, ...]:
        if isinstance(value, list):
            return tuple(self.flat(item, column) for item in value)
        children = {child.key: child for child in column.children()}
        return tuple(
            gettext("%(label)s: %(value)s")
            % {"label": str(child.label), "value": self.flat(item, child, column)}
            for child, item in (
                (children.get(name) or _fallback(name), v) for name, v in value.items()
            )
        )

    def flat(self, value: Any, column: Column, parent: Column | None = None) -> str:
        """A value inside a nested one, on one line."""
        if parent is not None and parent.before_after and isinstance(value, list):
            return " → ".join(self.text(item, column) for item in value)
        if isinstance(value, dict | list) and value:
            return ", ".join(self.lines(value, column))
        return self.text(value, column)

    def text(self, value: Any, column: Column) -> str:
        return display_value(value, labels=self.labels(column), money=column.money)


def _keys(rows: list[dict]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        keys += [key for key in row if key not in keys]
    return keys


def disclosure_section_runs(
    data: dict[str, dict[str, list[dict]]], *, size: int
) -> Iterator[tuple[Section, bool, bool]]:
    """`disclosure_sections`, each section as runs of at most `size` rows: (the run, whether
    it opens the section, whether it closes it). The package writes its page a run at a time
    (a person with thousands of orders); the runs render to the same page."""
    present = {
        (app, name): rows for app, sections in data.items() for name, rows in sections.items()
    }
    ordered = [
        (app, section.key, present.pop((app, section.key)), section)
        for app, section in declared_sections()
        if (app, section.key) in present
    ]
    for app, name, rows, declared in ordered + [
        (*key, rows, None) for key, rows in present.items()
    ]:
        declared = declared or Declared(name, f"{app} / {name}".replace("_", " ").capitalize())
        keys, formatter = _keys(rows), _Formatter()
        for start in range(0, len(rows), size) if rows else [0]:
            table = formatter.table(rows[start : start + size], declared.columns, keys)
            run = Section(str(declared.title), str(declared.explanation), table)
            yield run, start == 0, start + size >= len(rows)


@register.simple_tag
def disclosure_sections(data: dict[str, dict[str, list[dict]]]) -> list[Section]:
    """`data` (from `personal_data_export`) as titled sections of display values, in the
    active language: the declared sections in the registry's page order, then any section no
    app declared."""
    return [section for section, _, _ in disclosure_section_runs(data, size=sys.maxsize)]


@register.simple_tag
def disclosure_cell(cell: Cell) -> SafeString:
    """One value as HTML: its text, its lines, or a small table."""
    if cell.table is not None:
        table = cell.table
        head = format_html_join("", "<th>{}</th>", ((header,) for header in table.headers))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((disclosure_cell(c),) for c in row)),)
                for row in table.rows
            ),
        )
        return format_html('<table class="nested"><tr>{}</tr>{}</table>', head, body)
    if cell.lines:
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in cell.lines))
    return format_html("{}", cell.text)
