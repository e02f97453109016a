from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Model, QuerySet

from apps.audit.models import AccessLog
from apps.core import csvsafe
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


def personal_fields_of(model: type[Model]) -> set[str]:
    """The fields of this model that the personal-data registry says hold personal data."""
    return covered_fields().get(model._meta.label, set())


def holds_personal_data(model: type[Model]) -> bool:
    return bool(personal_fields_of(model))


class _Echo:
    def write(self, value):
        return value


def csv_rows(queryset: QuerySet, columns: tuple[str, ...]) -> Iterator[str]:
    """CSV lines for a queryset, streamed in chunks, safe to open in a spreadsheet."""
    writer = csvsafe.writer(_Echo())
    yield writer.writerow(columns)
    for row in queryset.values_list(*columns).iterator(chunk_size=2000):
        yield writer.writerow(row)


def access_log_csv(queryset: QuerySet[AccessLog]) -> Iterator[str]:
    return csv_rows(queryset.order_by("at", "id"), ACCESS_LOG_COLUMNS)
