"""`manage.py bench_erasure` with a tiny N: it runs end to end (real worker, real database,
SMTP sink) and its last line is the JSON the README quotes."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def test_bench_erasure_prints_one_json_object_last(transactional_db):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "bench_erasure",
        customers=4,
        naive=2,
        big_orders=40,
        concurrency=1,
        worker_settings="config.settings.worker_test",
        timeout=120,
        stdout=out,
        stderr=err,
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["customers"] == 4 and result["erased"] == 4
    assert result["leftover_personal_values"] == 0 and result["pii_hits_after"] == 0
    assert result["notices_sent"] == 4  # one completion mail each, through the sink
    queries = result["queries_per_erasure"]
    assert queries["1_order"] == queries["40_orders"] == result["db_queries_per_erasure"]
    assert sum(result["queries_per_erasure_by_part"].values()) == queries["1_order"]
    for key in ("seconds", "erasures_per_s", "naive_erasures_per_s", "speedup_vs_naive"):
        assert result[key] > 0
    assert result["worker_peak_rss_mb"] > 0
    assert "LEFT:" not in err.getvalue()
