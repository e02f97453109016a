"""Loaded into benchmark workers only (`celery worker --include apps.bench.worker`, see
apps.bench.kit.Workers); the shop's own tasks know nothing of it. It

- keeps the worker off the broker's remote-control exchange: a benchmark worker answers no
  `celery inspect` of the configured system and leaves no binding of its own behind;
- says when the worker is ready by creating BENCH_READY_FILE (instead of a broadcast ping),
  once it has loaded the URL configuration, as a worker that has run before has (the first
  campaign message of a fresh process imports every URL module, the webhooks' SDKs with them:
  0.6–1.1 s once per process, which is not what a campaign costs);
- with BENCH_QUERIES_KEY set, counts every task's SQL statements into that Redis counter, which
  the benchmark reads once the workers have stopped."""

from __future__ import annotations

import os
from pathlib import Path

from celery.signals import task_postrun, task_prerun, worker_ready
from django.conf import settings
from django.db import connection

from config.celery_app import app

# Read when the worker builds its consumer, which is after this module is imported.
app.conf.worker_enable_remote_control = False

QUERIES_KEY = os.environ.get("BENCH_QUERIES_KEY", "")
_running: dict[str, _Counter] = {}


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@worker_ready.connect
def _say_ready(**kwargs):
    from apps.marketing.mail import unsubscribe_url_prefix

    unsubscribe_url_prefix()  # imports and indexes the URL modules
    if ready_file := os.environ.get("BENCH_READY_FILE"):
        Path(ready_file).touch()


@task_prerun.connect
def _start_counting(task_id=None, **kwargs):
    if not QUERIES_KEY:
        return
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
