"""Admin change lists over tables of millions of rows: the unfiltered list does not count them.

Django's change list counts the rows it pages through (``SELECT COUNT(*)``) on every page; over a
million customers, orders or consent events that is a scan of the table per page view. Without
a filter or search, PostgreSQL's planner estimate (``pg_class.reltuples``, kept by autovacuum's
ANALYZE) is close enough for "about how many pages"; a filtered or searched list, usually short,
is counted exactly. Pair with ``show_full_result_count = False`` (the second, unfiltered count).
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def table_row_estimate(queryset: QuerySet) -> int | None:
    """The planner's row estimate of the queryset's table, or None where there is none (not
    PostgreSQL, or a table never analysed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate >= settings.ADMIN_ESTIMATED_COUNT_ABOVE:
                return estimate
        return super().count
