"""Pieces the benchmark commands share: a counting SMTP sink on loopback, real Celery worker
subprocesses on this process's database, broker and queue (the benchmark's own, see
apps.bench.isolation), and /proc readings of their CPU and memory.
Benchmarks print figures; nothing here asserts timings."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.bench.servers import free_port

WORKER_SETTINGS = {"config.settings.test": "config.settings.worker_test"}
_CAMPAIGN_RE = re.compile(rb"^X-Campaign: (\d+)\r?$", re.MULTILINE)


class CountingSink:
    """An aiosmtpd SMTP server that keeps counts, not messages: per recipient, and per
    X-Campaign header (so the reference loops and the campaign can be told apart)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.reset()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.by_recipient: Counter = Counter()
            self.by_campaign: Counter = Counter()
            self.first_at: dict = {}
            self.last_at: dict = {}
            self.total = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # PIPELINING, as the mail servers a shop sends through offer it (Postfix, Exim, the
        # ESPs' relays). aiosmtpd reads commands from a buffered stream, so it serves pipelined
        # commands as they come; it just does not say so.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        head = envelope.content[: envelope.content.find(b"\r\n\r\n")]
        match = _CAMPAIGN_RE.search(head)
        campaign = int(match.group(1)) if match else None
        now = time.perf_counter()
        with self.lock:
            self.total += 1
            self.by_campaign[campaign] += 1
            self.first_at.setdefault(campaign, now)
            self.last_at[campaign] = now
            for rcpt in envelope.rcpt_tos:
                self.by_recipient[(campaign, rcpt.lower())] += 1
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def received(self) -> int:
        return self.total

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise SystemExit("benchmarks need PostgreSQL: set DATABASE_URL (see README)")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Workers:
    """`count` real `celery -A config worker` processes on this database, broker and queue
    (the one this process publishes to: they consume only it and publish to it), mailing to the
    sink: solo pool by default, or prefork with `concurrency` children each."""

    def __init__(
        self,
        *,
        count: int = 1,
        sink_port: int,
        pool: str = "solo",
        concurrency: int = 1,
        settings_module: str | None = None,
        loglevel: str | None = None,
        extra_env: dict | None = None,
        count_queries: bool = False,
    ):
        from config.celery_app import app

        self.count = count
        self.queue = app.conf.task_default_queue
        self.queries_key = f"bench:queries:{self.queue}:{os.getpid()}" if count_queries else ""
        current_settings = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local")
        self.env = {
            **os.environ,
            # The workers run this process's settings (under pytest: the worker variant, which
            # mails over SMTP), with the same keys, so hashes and tokens agree.
            "DJANGO_SETTINGS_MODULE": settings_module
            or WORKER_SETTINGS.get(current_settings, current_settings),
            "SECRET_KEY": settings.SECRET_KEY,
            "SUPPRESSION_HMAC_KEY": settings.SUPPRESSION_HMAC_KEY,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "BENCH_QUERIES_KEY": self.queries_key,
            "EMAIL_URL": f"smtp://127.0.0.1:{sink_port}",
            "LOG_LEVEL": "WARNING",
            "DJANGO_DEBUG": "false",  # as in production: no query log kept in memory
            "PRIVACY_PRIVATE_ROOT": str(settings.PRIVACY_PRIVATE_ROOT),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **(extra_env or {}),
        }
        loglevel = loglevel or os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")
        self.options = [
            f"--pool={pool}",
            f"--loglevel={loglevel}",
            f"--queues={self.queue}",
            "--include=apps.bench.worker",  # ready file, no remote control, query counts
        ]
        if pool != "solo":
            self.options.append(f"--concurrency={concurrency}")
        self.processes: list[subprocess.Popen] = []
        self.logdir = Path(tempfile.mkdtemp(prefix="bench-workers-"))

    def __enter__(self):
        from config.celery_app import app

        # Restored on exit: a bench run inside the test suite must not leave every later test
        # enqueueing to a broker nobody consumes.
        self.was_eager = app.conf.task_always_eager
        app.conf.task_always_eager = False
        for i in range(self.count):
            self._spawn(i)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if all(self._ready_file(i).exists() for i in range(self.count)):
                return self
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.1)
        self.__exit__()
        raise SystemExit(f"the Celery workers did not start; logs in {self.logdir}")

    def _ready_file(self, i: int) -> Path:
        return self.logdir / f"{i}.ready"

    def _spawn(self, i: int) -> str:
        """Start worker `i` (again, when it exists already); returns its node name."""
        node = f"bench{i}-{os.getpid()}@localhost"
        self._ready_file(i).unlink(missing_ok=True)
        with open(self.logdir / f"{i}.log", "ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker",
                    *self.options, "-n", node,
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                env={**self.env, "BENCH_READY_FILE": str(self._ready_file(i))},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=settings.BASE_DIR,
            )  # fmt: skip
        if i < len(self.processes):
            self.processes[i] = process
        else:
            self.processes.append(process)
        return node

    def kill(self, i: int) -> None:
        """SIGKILL worker `i` (with its pool children), as the kernel or an operator would."""
        import signal

        for pid in reversed(_tree(self.processes[i].pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.processes[i].wait()

    def revive(self) -> int:
        """Start again every worker that has exited, as a process supervisor (systemd) would;
        returns how many it started."""
        dead = [i for i, process in enumerate(self.processes) if process.poll() is not None]
        for i in dead:
            self._spawn(i)
        return len(dead)

    def __exit__(self, *exc):
        from config.celery_app import app

        app.conf.task_always_eager = self.was_eager
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def queries(self) -> int:
        """The SQL statements the workers' tasks ran (count_queries=True), all of them once the
        workers have stopped."""
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        try:
            return int(client.getdel(self.queries_key) or 0)  # nothing left in the broker
        finally:
            client.close()

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return total

    def peak_rss_mb(self) -> float:
        """The highest resident memory any one worker reached (VmHWM), with its pool children
        counted in (prefork): read before the workers stop."""
        peak = 0
        for process in self.processes:
            peak = max(peak, sum(_hwm_kb(pid) for pid in _tree(process.pid)))
        return round(peak / 1024, 1)


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _hwm_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:")), 0)
