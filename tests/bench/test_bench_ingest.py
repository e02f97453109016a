"""`manage.py bench_ingest` with a tiny N: real gunicorn workers, real database, every order
stored, and its last line the JSON the README quotes."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def test_bench_ingest_prints_one_json_object_last(transactional_db):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "bench_ingest",
        orders=30,
        customers=10,
        import_rows=20,
        clients=4,
        timeout=120,
        stdout=out,
        stderr=err,
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["orders"] == 30
    # Singles, the bulk, the warm-up and the two query probes, all stored.
    assert result["orders_stored"] == 30 + 30 + 30 + 2
    for key in (
        "orders_per_s_single",
        "items_per_s_bulk",
        "p99_ms_single",
        "server_cpu_ms_per_order_single",
        "server_cpu_ms_per_item_bulk",
        "client_cpu_ms_per_order_single",
    ):
        assert result[key] > 0
    queries = result["queries_per_order"]
    assert queries["1_line"] == queries["10_lines"] and result["queries_constant_in_lines"]
    assert {"import_rows_per_s", "import_peak_rss_mb"} <= set(result)
    assert result["import_rows"] == 20
    assert result["import_rows_per_s"] > 0 and result["import_peak_rss_mb"] > 0
    assert result["gunicorn"]["workers"] == 2 and result["clients"] == 4
