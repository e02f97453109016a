"""A database, a broker queue and file directories of the benchmark's own, so that running one
against a configured system leaves that system's data as it was and no other worker of the same
broker can take the benchmark's tasks (nor a benchmark worker the system's).

Like Django's test runner, the database is created on the configured PostgreSQL server, named
after the configured one (`<name>_bench_<pid>`), migrated, and dropped at the end, also when the
benchmark fails. The queue is a Celery queue whose name is unique to the run: this process
publishes to it (`task_default_queue`), the benchmark's workers consume only it (`-Q`) and
publish to it too (CELERY_TASK_DEFAULT_QUEUE, see apps.bench.kit.Workers); it is deleted from the
broker at the end with whatever the benchmark left in it. `bench_faults` needs more (servers it
may stop and restart) and brings its own PostgreSQL and Redis (apps.bench.faults)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test.utils import override_settings
from django.utils.crypto import get_random_string

# PostgreSQL truncates identifiers longer than this; the suffix must survive.
MAX_NAME = 63


@contextlib.contextmanager
def own_database(*, label: str) -> Iterator[str]:
    """Point this process's default database at a new, migrated one on the configured server
    for the block; drop it afterwards. Returns its name."""
    if connection.vendor != "postgresql":
        raise CommandError(f"{label} measures PostgreSQL: set DATABASE_URL")
    configured = connection.settings_dict["NAME"]
    suffix = f"_bench_{os.getpid()}"
    name = configured[: MAX_NAME - len(suffix)] + suffix
    quoted = connection.ops.quote_name(name)
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            # Not ours to drop: a run of this pid that died, or someone's database.
            raise CommandError(f"database {name} exists already: drop it and run again")
        try:
            cursor.execute(f"CREATE DATABASE {quoted}")
        except DatabaseError as exc:  # no CREATEDB right, say
            raise CommandError(f"{label} could not create database {name}: {exc}") from exc
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield name
    finally:
        connection.close()
        connection.settings_dict["NAME"] = configured
        with connection._nodb_cursor() as cursor:
            # FORCE: a worker that was killed may still hold a session for a moment.
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


@contextlib.contextmanager
def own_queue(*, label: str) -> Iterator[str]:
    """Route this process's tasks to a queue unique to the run for the block; delete the queue
    (its messages and its binding) from the broker afterwards. Returns its name."""
    from config.celery_app import app

    name = f"{label}.{os.getpid()}.{get_random_string(6, 'abcdefghijkmnpqrstuvwxyz23456789')}"
    configured = app.conf.task_default_queue
    app.conf.task_default_queue = name
    try:
        yield name
    finally:
        app.conf.task_default_queue = configured
        _delete_queue(app, name)


def _delete_queue(app, name: str) -> None:
    queue = app.amqp.queues.pop(name, None) or app.amqp.queues.new_missing(name)
    with app.connection_for_write() as conn:
        bound = queue(conn.default_channel)
        # Declared first: the transport removes only the bindings its channel knows of.
        bound.declare()
        bound.delete()


@contextlib.contextmanager
def isolated(*, label: str) -> Iterator[None]:
    """A database, a queue and file directories (MEDIA_ROOT, PRIVACY_PRIVATE_ROOT) of the
    benchmark's own, for this process and the workers it starts inside the block."""
    with contextlib.ExitStack() as stack:
        files = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{label}-files-")))
        stack.enter_context(
            override_settings(MEDIA_ROOT=files / "media", PRIVACY_PRIVATE_ROOT=files / "private")
        )
        stack.enter_context(own_database(label=label))
        stack.enter_context(own_queue(label=label))
        yield
