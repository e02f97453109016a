"""PostgreSQL COPY for the benchmarks' bulk populations: rows streamed into a table through
psycopg's ``cursor.copy``, an order of magnitude faster than ``bulk_create`` (no SQL text to
build or parse per row). COPY fires the tables' INSERT triggers and checks every constraint,
as an INSERT would: the append-only ledgers accept it.

Columns the caller does not give are filled as Django would on save (``auto_now`` fields with
the time of the copy, others with the field's default), except the primary key, which the
database numbers unless given."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone


def _filler(field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default() or field.null or field.empty_strings_allowed:
        value = field.get_default()  # the default, else None where NULL is allowed, else ""
    else:
        raise ValueError(f"{field.model.__name__}.{field.name} needs a value")
    return json.dumps(value) if isinstance(value, dict | list) else value


def copy_rows(model, fields: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` (tuples in the order of `fields`, by field name or attname) into `model`'s
    table; returns how many. Must run inside the caller's transaction or autocommit."""
    meta = model._meta
    given = [meta.get_field(name) for name in fields]
    given_columns = {field.column for field in given}
    now = timezone.now()
    filled = [
        field
        for field in meta.concrete_fields
        if field.column not in given_columns and not field.primary_key
    ]
    constant = tuple(_filler(field, now) for field in filled)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [*given, *filled])
    table = connection.ops.quote_name(meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *constant))
                count += 1
    return count


def next_id(model) -> int:
    """The first id free after the rows already in the table (for rows numbered by the caller,
    so that others can point at them in the same load)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def sync_sequence(model) -> None:
    """After rows were copied with their ids: the table's id sequence continues after them."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))",
            [table],
        )
