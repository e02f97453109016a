from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Model, QuerySet

from apps.audit.models import AccessLog
from apps.core.privacy import covered_fields

ACCESS_LOG_COLUMNS = (
    "id",
    "at",
    "staff_user_id",
    "action",
    "model_label",
    "object_id",
    "ip_address",
)
# Characters that make a spreadsheet treat a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def personal_fields_of(model: type[Model]) -> set[str]:
    """The fields of this model that the personal-data registry says hold personal data."""
    return covered_fields().get(model._meta.label, set())


def holds_personal_data(model: type[Model]) -> bool:
    return bool(personal_fields_of(model))


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_rows(queryset: QuerySet, columns: tuple[str, ...]) -> Iterator[str]:
    """CSV lines for a queryset, streamed in chunks, safe to open in a spreadsheet."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in queryset.values_list(*columns).iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in row])


def access_log_csv(queryset: QuerySet[AccessLog]) -> Iterator[str]:
    return csv_rows(queryset.order_by("at", "id"), ACCESS_LOG_COLUMNS)
