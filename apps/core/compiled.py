"""Reads whose SQL Django compiles once per process, for the few queries every signed-in page
runs (the session, the login with its profile, My Page's boxes).

Turning a queryset into SQL costs Django far more than the database spends answering it: for
My Page's default address, 0.45 ms of Python per request against 0.07 ms to send the same SQL
and build the row. A `CompiledQuery` is written as an ORM queryset, so the ORM stays the one
description of the query; Django compiles it once per database alias, with stand-in values,
and each call then sends the same SQL with its own values and builds the objects the way the
queryset would (model instances with their select_related objects, or values_list tuples,
database converters applied). The repeated SQL is also what lets PostgreSQL prepare it
(`DATABASE_PREPARE_THRESHOLD`).

Only for queries whose shape does not depend on the values: the values are ints or strings
(ids, keys) that the ORM passes to the database as they are, never None or a list. A value the
compiled SQL does not carry as a parameter is refused when the query is first compiled. An int
past its column's range reaches the database (an error there, where the ORM would have answered
nothing): pass ids read from the database, not numbers a visitor typed."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

# Stand-ins no real id or key can equal: each is looked for among the compiled parameters.
# Negative, yet inside a 32-bit integer (Django compiles a value out of a column's range as a
# lookup that matches nothing, without the parameter).
_INT_STANDIN = -2_013_265_921
_STR_STANDIN = "\x00compiled-query-standin-"
_TYPES = (int, str)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (position in params, value name)
    build: Callable[[str, list], list]


class CompiledQuery:
    """A queryset of one shape, compiled once per database alias.

    ``CompiledQuery(lambda pk: User.objects.select_related("customer").filter(pk=pk), pk=int)``
    then ``query(pk=7)`` returns the list the queryset ``…filter(pk=7)`` would. The builder's
    parameters are the values, each declared int or str."""

    def __init__(self, builder: Callable[..., QuerySet], **types: type):
        names = list(inspect.signature(builder).parameters)
        if sorted(names) != sorted(types) or any(t not in _TYPES for t in types.values()):
            raise ImproperlyConfigured(
                "CompiledQuery: declare each of the builder's parameters as int or str."
            )
        # A builder without parameters (a list every visitor reads) is compiled once as well.
        self.builder = builder
        self.types = types
        self._compiled: dict[str, _Compiled] = {}
        self._model = None
        self._lock = threading.Lock()

    def __call__(self, **values) -> list:
        if values.keys() != self.types.keys():
            raise TypeError(f"CompiledQuery takes exactly {sorted(self.types)}")
        for name, value in values.items():
            # bool is an int, None or a list would change the SQL's shape: refused.
            if type(value) is not self.types[name]:
                raise TypeError(f"CompiledQuery value {name!r} must be {self.types[name].__name__}")
        compiled = self._compiled_for_alias()
        params = list(compiled.params)
        for position, name in compiled.slots:
            params[position] = values[name]
        return compiled.build(compiled.sql, params)

    def first(self, **values):
        """The first object the query finds, or None (slice the builder's queryset to [:1])."""
        found = self(**values)
        return found[0] if found else None

    def _compiled_for_alias(self) -> _Compiled:
        compiled = None
        if self._model is not None:
            compiled = self._compiled.get(router.db_for_read(self._model))
        if compiled is None:
            with self._lock:
                standins = {
                    name: _INT_STANDIN - i if kind is int else f"{_STR_STANDIN}{i}"
                    for i, (name, kind) in enumerate(self.types.items())
                }
                example = self.builder(**standins)
                compiled = self._compiled[example.db] = _compile(example, standins)
                self._model = example.model
        return compiled


def _compile(queryset: QuerySet, standins: dict) -> _Compiled:
    iterable = queryset._iterable_class
    if iterable not in (ModelIterable, ValuesListIterable) or queryset._prefetch_related_lookups:
        raise ImproperlyConfigured("CompiledQuery: model instances or values_list tuples only.")
    if queryset._known_related_objects:
        raise ImproperlyConfigured("CompiledQuery: filter on ids, not on model instances.")
    alias = queryset.db
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    params = tuple(params)
    slots = []
    for name, standin in standins.items():
        found = [i for i, p in enumerate(params) if type(p) is type(standin) and p == standin]
        if not found:
            raise ImproperlyConfigured(
                f"CompiledQuery: {name!r} is not a parameter of the compiled SQL."
            )
        slots += [(i, name) for i in found]
    col_count = compiler.col_count
    fields = [s[0] for s in compiler.select[:col_count]]
    converters = compiler.get_converters(fields)

    def rows(sql: str, params: list) -> list:
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = [row[:col_count] for row in cursor.fetchall()]
        if converters:
            fetched = list(compiler.apply_converters(fetched, converters))
        return fetched

    if iterable is ValuesListIterable:
        if queryset.query.extra_select:
            raise ImproperlyConfigured("CompiledQuery: values_list of fields and annotations.")

        # Django selects the columns in the order values_list names them (ValuesListIterable).
        def build(sql: str, params: list) -> list:
            return [tuple(row) for row in rows(sql, params)]

    else:
        klass_info, select = compiler.klass_info, compiler.select
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)
        annotations = list(compiler.annotation_col_map.items())

        def build(sql: str, params: list) -> list:
            objects = []
            for row in rows(sql, params):
                obj = model.from_db(alias, init_list, row[start:end])
                for populator in populators:
                    populator.populate(row, obj)
                for attr, position in annotations:
                    setattr(obj, attr, row[position])
                objects.append(obj)
            return objects

    return _Compiled(sql=sql, params=params, slots=tuple(slots), build=build)
