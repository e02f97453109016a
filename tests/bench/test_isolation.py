"""`bench_campaign` and `bench_erasure` at a tiny size against a configured system: each runs in
a database of its own (created, migrated and dropped by the command) and on a broker queue of its
own, so the configured database and broker are as they were afterwards, and a worker already
consuming the configured queue takes none of the benchmark's tasks."""

from __future__ import annotations

import io
import os

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import CustomerFactory

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def rows_per_table() -> dict[str, int]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 (introspected names)
            counts[table] = cursor.fetchone()[0]
    return counts


def broker_queues() -> dict[str, object]:
    """Every key of the configured broker with what it holds: a queue's length, a binding
    table's members (which queues an exchange routes to)."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        state = {}
        for key in client.keys("*"):
            kind = client.type(key).decode()
            if kind == "list":
                state[key] = ("list", client.llen(key))
            elif kind == "set":
                state[key] = ("set", sorted(client.smembers(key)))
            elif kind == "zset":
                state[key] = ("zset", client.zcard(key))
            elif kind == "hash":
                state[key] = ("hash", client.hlen(key))
            else:
                state[key] = (kind,)
        return state
    finally:
        client.close()


def databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {name for (name,) in cursor.fetchall()}


def test_benchmarks_leave_the_configured_database_and_broker_as_they_were(
    celery_worker_process, smtp_sink
):
    CustomerFactory()  # the configured system has data of its own
    before = rows_per_table(), broker_queues(), databases()

    campaign, erasure = io.StringIO(), io.StringIO()
    call_command(
        "bench_campaign", recipients=40, workers=1, chunk_size=15, reference_sample=20,
        stdout=campaign, stderr=io.StringIO(),
    )  # fmt: skip
    call_command(
        "bench_erasure", customers=2, naive=1, big_orders=5, concurrency=1,
        worker_settings="config.settings.worker_test", timeout=120,
        stdout=erasure, stderr=io.StringIO(),
    )  # fmt: skip

    assert '"delivered": 20' in campaign.getvalue().splitlines()[-1]
    assert '"erased": 2' in erasure.getvalue().splitlines()[-1]
    assert rows_per_table() == before[0]
    assert broker_queues() == before[1]
    assert databases() == before[2]  # the bench databases were dropped
    # The worker already on the configured queue (mailing to smtp_sink) took no bench task.
    assert smtp_sink.messages == []


def test_a_bench_database_that_exists_already_is_refused_and_left_alone(transactional_db):
    name = f"{connection.settings_dict['NAME']}_bench_{os.getpid()}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    try:
        with pytest.raises(CommandError, match="exists already"):
            call_command("bench_campaign", recipients=4, stdout=io.StringIO(), stderr=io.StringIO())
        assert name in databases()  # not ours to drop
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
