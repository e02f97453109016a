"""Faults a test switches on for its own duration: a broker or a cache that nothing answers.

An unreachable service is a loopback port nothing listens on (``closed_url``), so the client
gets a real "connection refused", as it does when Redis is stopped."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from apps.bench.kit import free_port


def closed_url(scheme: str = "redis") -> str:
    return f"{scheme}://127.0.0.1:{free_port()}/0"


@contextmanager
def broker_at(url: str):
    """This process's Celery app publishes to `url`, for real (not eager), until the block ends;
    the old broker and eager setting come back afterwards."""
    from config.celery_app import app

    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    old_env = os.environ.get("CELERY_BROKER_URL")
    old = (app.conf.broker_url, app.conf.broker_write_url, app.conf.task_always_eager)
    os.environ["CELERY_BROKER_URL"] = url
    # The write URL too: publishing uses it when it is set.
    app.conf.broker_url, app.conf.broker_write_url, app.conf.task_always_eager = url, url, False
    app._after_fork()  # forget pooled connections to the old broker
    try:
        yield app
    finally:
        if old_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_env
        app.conf.broker_url, app.conf.broker_write_url, app.conf.task_always_eager = old
        app._after_fork()


@pytest.fixture
def broker_down():
    """Redis (the broker) stopped: every publish from this process is refused."""
    with broker_at(closed_url()) as app:
        yield app


@pytest.fixture
def cache_down(settings):
    """The cache Redis stopped: the default cache points at a port nothing answers."""
    settings.CACHES = {
        **settings.CACHES,  # the other caches (the page frame's, in memory) stay up
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": closed_url(),
        },
    }
