"""`manage.py bench_faults` at a tiny size, as a separate process the way an operator runs it:
it reports every figure per fault and in total, and does its work on servers of its own. The
figures themselves are the bench's report: no timing or target is asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlparse

import pytest
from django.conf import settings

pytestmark = pytest.mark.services

FIGURES = ("lost", "duplicates", "unknown", "requests_stuck", "notices_unsent", "recovered_s")


def configured_services() -> dict:
    """What the configured PostgreSQL server and Redis hold, as far as a bench could change it:
    the databases, the tables of the configured database, and the broker's keys."""
    import psycopg
    import redis

    url = urlparse(os.environ["DATABASE_URL"])
    dsn = f"postgresql://{url.username}@{url.hostname}:{url.port}/{url.path.lstrip('/')}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        databases = sorted(row[0] for row in conn.execute("SELECT datname FROM pg_database"))
        tables = sorted(
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        )
    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    try:
        keys = sorted(client.keys("*"))
    finally:
        client.close()
    return {"databases": databases, "tables": tables, "broker_keys": keys}


def test_bench_faults_reports_each_figure_per_fault_and_leaves_configured_services_alone():
    before = configured_services()

    finished = subprocess.run(
        [sys.executable, "manage.py", "bench_faults", "--recipients", "60", "--requests", "4",
         "--duration", "2", "--timeout", "8", "--faults", "smtp_refuse,worker_kill"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip

    assert finished.returncode == 0, finished.stderr[-4000:]
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    assert list(report["faults"]) == ["smtp_refuse", "worker_kill"]
    for figures in [*report["faults"].values(), report["total"]]:
        for name in FIGURES[:-1]:
            assert isinstance(figures[name], int) and figures[name] >= 0, (name, figures)
        assert figures["recovered_s"] is None or figures["recovered_s"] >= 0
    for name in FIGURES[:-1]:
        assert report["total"][name] == sum(f[name] for f in report["faults"].values())
    assert report["recipients"] == 60
    assert configured_services() == before


def test_bench_faults_refuses_an_unknown_fault_before_starting_anything():
    finished = subprocess.run(
        [sys.executable, "manage.py", "bench_faults", "--faults", "smtp_refuse,disk_full"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode != 0
    assert "disk_full" in finished.stderr
    assert "smtp_refuse" in finished.stderr  # the message lists the faults to choose from
