"""Shared fixtures: real services where a test needs them, and the rule that under CI=true a
missing PostgreSQL, Redis, worker or Chromium is a failure, never a skip."""

from __future__ import annotations

import os
import socket
import sys
import time
from urllib.parse import urlparse

import pytest
from django.conf import settings

from apps.bench.kit import database_url, free_port

# Playwright's sync API runs an event loop in this thread; the ORM beside it needs this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"


def missing(reason: str) -> None:
    if CI:
        pytest.fail(f"{reason}: required under CI=true", pytrace=False)
    pytest.skip(reason)


def using_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def redis_reachable() -> bool:
    if "CELERY_BROKER_URL" not in os.environ:
        return False
    url = urlparse(os.environ["CELERY_BROKER_URL"])
    try:
        with socket.create_connection((url.hostname, url.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not using_postgres():
        missing("PostgreSQL is not configured (run through `make test`, or set DATABASE_URL)")
    if item.get_closest_marker("services"):
        if not using_postgres():
            missing("the Celery worker tests need PostgreSQL (DATABASE_URL)")
        if not redis_reachable():
            missing("Redis is not reachable (CELERY_BROKER_URL)")
    if item.get_closest_marker("browser"):
        if not os.path.exists(CHROMIUM):
            missing(f"Chromium is not installed at {CHROMIUM}")
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing("playwright is not installed")


# ---------------------------------------------------------------------- live server


@pytest.fixture(scope="session")
def live_server(request, django_db_setup, django_db_blocker):
    """pytest-django's live server, but stopped before the test database is dropped (its
    thread's connection otherwise keeps the database busy at teardown)."""
    from pytest_django import live_server_helper

    server = live_server_helper.LiveServer(
        os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    yield server
    server.stop()
    # Connections the server's finished request threads left open (idle, their thread gone)
    # would keep the test database from being dropped.
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


# ---------------------------------------------------------------------- migrated data


@pytest.fixture(autouse=True)
def _seeded_rows_in_transactional_tests(request):
    """Transactional tests (live server, worker) start from tables the previous one flushed,
    which also drops what data migrations wrote: put the purposes and policy back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    if not transactional and not {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    import importlib

    from django.apps import apps

    if not transactional:
        request.getfixturevalue("transactional_db")
    seed = importlib.import_module("apps.consents.migrations.0002_seed_purposes_and_policy")
    seed.seed(apps, None)


# ---------------------------------------------------------------------- SMTP sink


class SinkHandler:
    def __init__(self):
        self.messages: list = []
        self.refuse: set[str] = set()  # recipients answered "550 user unknown"
        self.defer: set[str] = set()  # recipients answered "451 try again later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.defer:
            return f"451 4.7.1 <{address}>: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.content, policy=policy.default),
            }
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.host, handler.port = controller.hostname, controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """Send this process's mail through the real SMTP backend to the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink.host
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return smtp_sink


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


# ---------------------------------------------------------------------- Celery worker


@pytest.fixture
def celery_workers(transactional_db, smtp_sink, tmp_path):
    """Start real `celery -A config worker` subprocesses on the throwaway Redis and the test
    database: `start(**env)` returns a running worker (with .node and .log_path). The workers
    send mail over SMTP to the sink; this process enqueues for real (not eager)."""
    import subprocess

    from config.celery_app import app

    started = []

    def start(name: str = "w", **extra_env) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.worker_test",
            "DATABASE_URL": database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://{smtp_sink.host}:{smtp_sink.port}",
            **{key: str(value) for key, value in extra_env.items()},
        }
        node = f"{name}-{os.getpid()}-{len(started)}@localhost"
        log_path = tmp_path / f"worker-{len(started)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                 "--loglevel=INFO", "-n", node, "--without-gossip", "--without-mingle"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
            )  # fmt: skip
        process.node, process.log_path = node, log_path
        started.append(process)
        try:
            wait_until(lambda: app.control.ping(destination=[node], timeout=0.5), timeout=60)
        except AssertionError:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        return process

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield start
    finally:
        app.conf.task_always_eager = was_eager
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def celery_worker_process(celery_workers):
    """One real worker (see celery_workers)."""
    return celery_workers()


# ---------------------------------------------------------------------- cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# ---------------------------------------------------------------------- faults

from tests.faults import broker_down, cache_down  # noqa: E402, F401 (fixtures for every test)
