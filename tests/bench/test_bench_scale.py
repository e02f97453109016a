"""`manage.py bench_scale` with a small N: it runs end to end (COPY population, gunicorn with the
production settings, the admin as a privacy officer, a real worker's fan-out, the big person's
disclosure and erasure, the retention rule) and its last line is the JSON the README and
docs/scaling.md quote. Counts are asserted, never timings."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.services, pytest.mark.postgres]

KEYS = (
    "customers", "mypage_rps", "mypage_p99_ms", "mypage_privacy_p99_ms", "privacy_rps",
    "admin_p95_ms", "eligible_count_s", "fanout_s", "fanout_eligible",
    "fanout_worker_peak_rss_mb", "erasure_queries", "erasure_s", "disclosure_peak_rss_mb",
    "retention_guests_per_s", "population_s",
)  # fmt: skip


def test_bench_scale_prints_its_figures_with_counts_that_agree(transactional_db):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "bench_scale", customers=200, big_orders=300, page_requests=20, admin_requests=2,
        sessions=20, clients=4, gunicorn_workers=1, gunicorn_threads=2, send_seconds=1,
        timeout=120, stdout=out, stderr=err,
    )  # fmt: skip
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    for key in KEYS:
        assert figures[key] is not None, key
    assert figures["customers"] == 200
    # Issue 16's targets are checked against the figures (stated for 1,000,000 customers).
    assert figures["targets_met"] == all(t["met"] for t in figures["targets"].values())
    assert figures["targets"]["erasure_queries"]["value"] == figures["erasure_queries"]
    assert figures["targets_stated_at_customers"] == 1_000_000
    expected, counts = figures["expected"], figures["counts"]
    assert counts == {key: expected[key] for key in counts}
    assert counts["customers"] == 201 and counts["orders"] == 200 * 5 + 300
    assert counts["consent_events"] == 201 * 10 and counts["privacy_requests"] == 2
    # Every eligible person got a delivery row, and only they.
    assert figures["eligible_count"] == expected["eligible"] > 0
    assert figures["fanout_eligible"] == expected["eligible"]
    assert figures["erasure_orders"] == 300
    assert figures["erasure_leftover_personal_values"] == 0
    assert figures["erasure_leftover_scope"] == "database"
    assert figures["erasure_own_rows_left"] == 0  # the check used above --scan-max
    assert sum(figures["erasure_queries_by_part"].values()) == figures["erasure_queries"] > 0
    assert figures["retention_guests"] == expected["inactive_guests"] > 0
    assert set(figures["admin"]) == {
        "customers", "customers_search", "orders", "orders_search", "requests",
        "requests_search",
    }  # fmt: skip
    assert figures["disclosure_package_mb"] > 0
