"""Pieces of `manage.py bench_faults`: servers of its own that it may stop, restart and kill
(a PostgreSQL cluster, a Redis server, Celery beat), an SMTP sink whose faults it switches, and
the row states it reads to judge the outcome. Nothing here is used by the shop itself, and
nothing here asserts timings: the bench prints figures."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

from apps.bench.kit import CountingSink

# The row states the bench reads, from the shop's models (apps/marketing/models.py Delivery and
# Campaign, apps/privacy_requests/models.py Status). Named here once, so a renamed or added state
# is one edit. A delivery in any state not listed as final is still work to do.
DELIVERY_FINAL = ("sent", "failed", "skipped", "unknown")
DELIVERY_UNKNOWN = "unknown"
CAMPAIGN_FINISHED = ("sent",)
REQUEST_DONE = "completed"


@contextlib.contextmanager
def use_services(*, database_url: str, broker_url: str):
    """Point this process's default database and Celery broker at the bench's own servers, and
    back at the configured ones afterwards (the settings are changed in place, as
    Django's test runner does for the test database)."""
    from django.test.utils import override_settings

    from config.celery_app import app

    url = urlparse(database_url)
    new = {
        "ENGINE": "django.db.backends.postgresql",  # also when the configured one is SQLite
        "NAME": url.path.lstrip("/"),
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
    }
    old = {key: connection.settings_dict.get(key) for key in new}
    old_broker = app.conf.broker_url
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    old_environ = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    connection.close()
    connection.settings_dict.update(new)
    del connections[DEFAULT_DB_ALIAS]  # the next use opens a connection of the new engine
    _drop_broker_pool(app)
    app.conf.broker_url = broker_url
    try:
        with override_settings(CELERY_BROKER_URL=broker_url):
            yield
    finally:
        connection.close()
        connection.settings_dict.update(old)
        del connections[DEFAULT_DB_ALIAS]
        _drop_broker_pool(app)
        app.conf.broker_url = old_broker
        if old_environ is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_environ


def _drop_broker_pool(app) -> None:
    """Forget the broker connections, so the next publish connects to the current URL (what
    Celery itself does after a fork)."""
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


def reconnect_on_error(read, *, attempts: int = 60):
    """Run a read, reconnecting while the database restarts (a restart ends every session)."""
    from django.db import DatabaseError, InterfaceError

    for _ in range(attempts - 1):
        try:
            return read()
        except (DatabaseError, InterfaceError):
            connection.close()
            time.sleep(0.5)
    return read()


class FaultSink(CountingSink):
    """The counting sink with switchable faults:

    - `refuse()` / `listen()`: stop listening (open sessions are cut, connections refused) and
      listen again on the same port;
    - mode "close": the connection is cut after a message's data and before the answer to it,
      on every `close_every`-th message (the message is not taken);
    - mode "tempfail": RCPT is answered 451 for the `tempfail_share` of addresses chosen by a
      hash of the address, so the same addresses are refused until the mode ends;
    - `trigger_at(campaign, k, hold=...)`: `triggered` is set when the campaign's k-th message
      has been taken; with `hold`, the answer to it waits until `release()`, so whoever sent it
      can be killed while waiting (the message arrived; the sender never learnt it).
    Nothing is logged: the counts are keyed by address in memory only."""

    def __init__(self):
        super().__init__()
        self.controller.loop.close()  # each listen() makes its own controller
        self.controller = None
        self.mode = "normal"
        self.close_every = 10
        self.tempfail_share = 0.10
        self._closed_count = 0
        self._protocols: set = set()
        self.triggered = threading.Event()
        self.released = threading.Event()
        self._trigger: tuple[int, int, bool] | None = None
        self.held_peer_port: int | None = None

    def _make_controller(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        sink = self

        class TrackingController(Controller):
            def factory(self):
                protocol = SMTP(self.handler, **self.SMTP_kwargs)
                sink._protocols.add(protocol)
                return protocol

        return TrackingController(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller = self._make_controller()
        self.controller.start()
        return self

    def __exit__(self, *exc):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self) -> None:
        controller, self.controller = self.controller, None
        if controller is None:
            return

        def cut():
            for protocol in list(self._protocols):
                if protocol.transport is not None:
                    protocol.transport.abort()
            self._protocols.clear()

        controller.loop.call_soon_threadsafe(cut)
        controller.stop()

    def listen(self) -> None:
        if self.controller is None:
            self.__enter__()

    def trigger_at(self, campaign_id: int, k: int, *, hold: bool = False) -> None:
        self.triggered.clear()
        self.released.clear()
        self.held_peer_port = None
        self._trigger = (campaign_id, max(1, k), hold)

    def release(self) -> None:
        self.released.set()

    def _tempfails(self, address: str) -> bool:
        digest = hashlib.sha256(address.lower().encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.tempfail_share

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "tempfail" and self._tempfails(address):
            return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "close":
            with self.lock:
                self._closed_count += 1
                cut = self._closed_count % self.close_every == 0
            if cut:
                server.transport.abort()
                return "421 4.3.0 Closing"  # never reaches the client: the connection is gone
        status = await super().handle_DATA(server, session, envelope)
        if self._trigger is not None:
            campaign_id, k, hold = self._trigger
            if self.by_campaign.get(campaign_id, 0) >= k and not self.triggered.is_set():
                self._trigger = None
                self.held_peer_port = session.peer[1] if hold else None
                self.triggered.set()
                while hold and not self.released.is_set():
                    await asyncio.sleep(0.01)
        return status


def pid_holding(local_port: int, pids: list[int]) -> int | None:
    """Which of `pids` (or their children) owns the TCP connection from 127.0.0.1:`local_port`
    (Linux /proc): the sink knows the peer's port, the bench needs the process to kill."""
    from apps.bench.kit import _tree

    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                    inodes.add(fields[9])
    for root in pids:
        for pid in _tree(root):
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return root
    return None


class Beat:
    """`celery -A config beat` with django-celery-beat's database scheduler on the bench
    database, waking every second, so the periodic sweeps run as in production."""

    def __init__(self, *, env: dict, logdir: Path):
        self.env = env
        self.logdir = logdir
        self.process: subprocess.Popen | None = None

    def _spawn(self) -> None:
        with open(self.logdir / "beat.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                 "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
                 "--max-interval=1", f"--pidfile={self.logdir / 'beat.pid'}",
                 f"--schedule={self.logdir / 'beat-schedule'}"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
            )  # fmt: skip

    def __enter__(self):
        self._spawn()
        return self

    def revive(self) -> int:
        if self.process is not None and self.process.poll() is not None:
            self._spawn()
            return 1
        return 0

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
