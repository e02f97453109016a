from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Max, Model, Q, QuerySet

from apps.audit.models import AccessLog
from apps.core import csvsafe
from apps.core.privacy import covered_fields
from apps.customers.models import Address, Customer, User

ACCESS_LOG_COLUMNS = (
    "id",
    "at",
    "staff_user_id",
    "action",
    "model_label",
    "object_id",
    "object_ids",
    "visit",
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


def access_log_about_customer(*, customer_id: int) -> QuerySet[AccessLog]:
    """The rows about one person: their customer record and their addresses, whether opened
    on their own or shown in a list."""
    about = Q(model_label=Customer._meta.label) & AccessLog.about(customer_id)
    for address_id in Address.objects.filter(customer_id=customer_id).values_list("pk", flat=True):
        about |= Q(model_label=Address._meta.label) & AccessLog.about(address_id)
    return AccessLog.objects.filter(about)


def access_log_who_looked(*, customer_id: int, limit: int = 10) -> list[dict]:
    """Who looked at this person, most recent first: per staff login, the number of page
    views and the last one."""
    rows = list(
        access_log_about_customer(customer_id=customer_id)
        .values("staff_user_id")
        .annotate(views=Count("id"), last_at=Max("at"))
        .order_by("-last_at")[:limit]
    )
    emails = dict(
        User.objects.filter(pk__in=[row["staff_user_id"] for row in rows]).values_list(
            "pk", "email"
        )
    )
    for row in rows:
        row["staff"] = emails.get(row["staff_user_id"], "")
    return rows
