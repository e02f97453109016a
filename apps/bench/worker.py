"""Loaded into benchmark workers only (`celery worker --include apps.bench.worker`, see
`apps.bench.kit.Workers(count_queries=True)`): counts every task's SQL statements into one Redis
counter that the benchmark reads once the workers have stopped. The shop's own tasks know
nothing of it."""

from __future__ import annotations

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import connection

QUERIES_KEY = "bench:queries"
_running: dict[str, _Counter] = {}


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@task_prerun.connect
def _start_counting(task_id=None, **kwargs):
    counter = _Counter()
    _running[task_id] = counter
    connection.execute_wrappers.append(counter)


@task_postrun.connect
def _stop_counting(task_id=None, **kwargs):
    import redis

    counter = _running.pop(task_id, None)
    if counter is None:
        return
    connection.execute_wrappers.remove(counter)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.incrby(QUERIES_KEY, counter.count)
    finally:
        client.close()
