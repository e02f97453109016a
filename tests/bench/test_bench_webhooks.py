import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.services, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_bench_webhooks_delivers_every_event_with_verified_signatures():
    out = StringIO()
    call_command(
        "bench_webhooks", events=60, workers=1, concurrency=4, publishers=2, batch=10,
        max_seconds=120, stdout=out, stderr=StringIO(),
    )  # fmt: skip
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["events"] == 60 and figures["delivered"] == 60
    assert figures["lost"] == 0 and figures["bad_signatures"] == 0 and figures["given_up"] == 0
    assert figures["receiver_calls"] == figures["attempts"] >= 60
    assert figures["duplicates_seen_by_receiver"] <= figures["receiver_timed_out"]
    for key in ("events_per_s", "p99_first_attempt_s", "p99_delivered_s", "seconds"):
        assert figures[key] > 0, key
