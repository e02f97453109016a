"""Database helpers shared by the apps: set-wise deletes for the erasers, and riding out a
database restart where the work already done must still be recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import InterfaceError, OperationalError, connection, connections
from django.db.models import QuerySet
from django.db.models.sql import DeleteQuery, UpdateQuery

T = TypeVar("T")


def delete_together(*querysets: QuerySet) -> list[int]:
    """Delete the rows of several querysets without Django's collector, and return how many
    each deleted, in order.

    On PostgreSQL it is one statement (data-modifying CTEs: ``WITH w0 AS (DELETE … RETURNING 1),
    w1 AS (…) SELECT count(*) …``, see ``write_together``), so an erasure costs the same round trips whatever it finds.
    Elsewhere (SQLite in development) one DELETE per queryset. Like ``QuerySet._raw_delete``,
    it runs no signals and follows no foreign key: only for rows nothing else points at.
    """
    return write_together(*querysets)


# One write of `write_together`: a queryset to delete, or (queryset, {field: value}) to update.
Write = QuerySet | tuple[QuerySet, dict]


def write_together(*writes: Write) -> list[int]:
    """Delete and update the rows of several querysets in one statement, and return how many
    rows each write touched, in order: `delete_together` with updates too (``WITH w0 AS
    (DELETE … RETURNING 1), w1 AS (UPDATE … RETURNING 1) SELECT count(*) …``), so an eraser
    costs one round trip for all it changes. Elsewhere (SQLite) one statement per write.

    Every write sees the rows as they were before the statement, and PostgreSQL cannot tell
    which of two writes of one row wins: the writes must touch different rows (in practice,
    different tables). Like ``delete_together``, deletes run no signals and follow no foreign
    key; updates are ``QuerySet.update`` (values may be expressions)."""
    if not writes:
        return []
    first = writes[0] if isinstance(writes[0], QuerySet) else writes[0][0]
    alias = first.db
    connection = connections[alias]
    if connection.vendor != "postgresql":
        # A raw delete of a queryset that matches nothing by construction returns None.
        return [
            (write._raw_delete(write.db) or 0)
            if isinstance(write, QuerySet)
            else write[0].update(**write[1])
            for write in writes
        ]
    parts, params, counted = [], [], []
    for write in writes:
        if isinstance(write, QuerySet):
            query = write.query.chain(DeleteQuery)
        else:
            query = write[0].query.chain(UpdateQuery)
            query.add_update_values(write[1])
        try:
            sql, query_params = query.get_compiler(alias).as_sql()
        except EmptyResultSet:
            counted.append(None)
            continue
        if not sql:  # an update of nothing
            counted.append(None)
            continue
        name = f"w{len(parts)}"
        parts.append(f"{name} AS ({sql} RETURNING 1)")
        params.extend(query_params)
        counted.append(name)
    if not parts:
        return [0] * len(writes)
    names = [name for name in counted if name]
    # Only generated names (w0, w1, …) and Django's compiled SQL go into the text.
    select = ", ".join(f"(SELECT count(*) FROM {name})" for name in names)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {select}", params)
        counts = dict(zip(names, cursor.fetchone(), strict=True))
    return [counts[name] if name else 0 for name in counted]


def update_each(objs: list, field_name: str, **same) -> int:
    """Set `field_name` of each row to its object's value (and the fields `same` names to one
    value for all), in one statement: what ``bulk_update(objs, [field_name, *same])`` does, without its CASE WHEN per row, which Django takes
    seconds to build for a batch of thousands. On PostgreSQL ``UPDATE … FROM unnest(ids,
    values)``; elsewhere ``bulk_update``. Returns how many rows it updated."""
    if not objs:
        return 0
    model = type(objs[0])
    alias = "default"
    connection = connections[alias]
    field = model._meta.get_field(field_name)
    if connection.vendor != "postgresql":
        for obj in objs:
            for name, value in same.items():
                setattr(obj, name, value)
        return model.objects.bulk_update(objs, [field_name, *same])
    quote = connection.ops.quote_name
    pk = model._meta.pk
    value_type = (
        field.target_field.db_type(connection) if field.is_relation else field.db_type(connection)
    )
    others = [model._meta.get_field(name) for name in same]
    sets = "".join(f", {quote(other.column)} = %s" for other in others)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {quote(field.column)} = v.value{sets} "  # noqa: S608
        f"FROM unnest(%s::{pk.db_type(connection)}[], %s::{value_type}[]) AS v(pk, value) "
        f"WHERE t.{quote(pk.column)} = v.pk"
    )  # names and types come from the model; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *(other.get_db_prep_save(same[other.name], connection) for other in others),
                [obj.pk for obj in objs],
                [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs],
            ],
        )
        return cursor.rowcount


def retry_on_disconnect(write: Callable[[], T], *, seconds: float = 60.0) -> T:
    """Run `write` (one transaction of its own); when the database connection breaks under it
    (PostgreSQL restarted, a failover), reconnect and run it again, backing off, for up to
    `seconds`. For writes that record what already happened outside the database (mail handed
    to the server): giving up would leave those rows claimed for ever. The transaction of a
    failed try was rolled back, so trying again is safe. Inside a caller's transaction there is
    nothing to retry: the error goes up at once."""
    deadline = time.monotonic() + seconds
    delay = 0.25
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            connection.close()  # the next query opens a new connection
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
