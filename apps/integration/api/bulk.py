"""What every bulk endpoint does the same way: take a JSON array of at most 1,000 items, parse
each with one serializer (a bad item is answered, not fatal), hand the good ones to the service
in one call, and answer one row per item in the order sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rest_framework import exceptions

from apps.integration.api.problems import Unprocessable, flatten_errors

BULK_MAX_ITEMS = 1000


def bulk_items(data, *, not_a_list: str, too_many: str) -> list:
    """``data`` as the list of items, or 422 (nothing runs) when it is none or too long."""
    if not isinstance(data, list):
        raise Unprocessable(not_a_list, code="not_a_list")
    if len(data) > BULK_MAX_ITEMS:
        raise Unprocessable(too_many, code="too_many_items")
    return data


@dataclass
class Parsed:
    items: list = field(default_factory=list)  # the items that parsed, in order
    positions: list[int] = field(default_factory=list)  # their indexes in the request
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # index -> field errors


def bulk_parse(data: list, parse: Callable) -> Parsed:
    """Parse each item with ``parse`` (one serializer for all, as a ListSerializer does with its
    child: a new one per item would deep-copy its fields a thousand times)."""
    parsed = Parsed()
    for index, raw in enumerate(data):
        try:
            parsed.items.append(parse(raw))
        except exceptions.ValidationError as exc:
            parsed.errors[index] = flatten_errors(exc.detail)
        else:
            parsed.positions.append(index)
    return parsed


def bulk_rows(
    data: list,
    parsed: Parsed,
    results: Sequence,
    *,
    row: Callable[[int, object], dict],
    error_row: Callable[[int, object, dict], dict],
) -> list[dict]:
    """One answer per item of ``data``: ``row(index, result)`` for the parsed ones,
    ``error_row(index, raw item, field errors)`` for the others."""
    by_index = dict(zip(parsed.positions, results, strict=True))
    return [
        row(index, by_index[index])
        if index in by_index
        else error_row(index, raw, parsed.errors[index])
        for index, raw in enumerate(data)
    ]


def raw_field(raw, name: str, max_length: int | None = None) -> str:
    """A field of an item that did not parse, for its answer row (an id the client sent)."""
    return str(raw.get(name, "") if isinstance(raw, dict) else "")[:max_length]
