import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.services, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_bench_campaign_reports_figures_with_no_wrong_or_duplicate_recipient():
    out = StringIO()
    call_command(
        "bench_campaign", recipients=80, workers=1, chunk_size=15, fanout_slice=12, stdout=out,
        stderr=StringIO(),
    )  # fmt: skip
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["recipients"] == 80 and figures["eligible"] == 40
    # Four slices of the fan-out, each with its own chunks, through a real worker.
    assert figures["fanout_slice"] == 12 and figures["fanned_out_after_s"] >= 0
    assert figures["delivered"] == 40 and figures["missing"] == 0
    assert figures["wrong_recipients"] == 0 and figures["duplicates"] == 0
    # The limit sends as many mails as the campaign, half before it and half after it.
    assert figures["limit_sample"] == 40
    for key in ("seconds", "mails_per_s", "limit_mails_per_s", "naive_mails_per_s",
                "limit_before_mails_per_s", "limit_after_mails_per_s", "sending_mails_per_s",
                "ratio_to_limit", "speedup_vs_naive", "worker_cpu_us_per_mail",
                "db_queries_per_1000", "worker_peak_rss_mb"):  # fmt: skip
        assert figures[key] > 0, key
