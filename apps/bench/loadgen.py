"""HTTP pieces of the benchmarks: real gunicorn workers on loopback serving this process's
database, and a load generator of keep-alive clients in threads. Figures only; nothing here
asserts a timing."""

from __future__ import annotations

import http.client
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from apps.bench.kit import _tree, database_url
from apps.bench.servers import free_port, wait_for_port


class Gunicorn:
    """`gunicorn config.wsgi` with `workers` processes on 127.0.0.1, on this process's
    database (kept open between requests, as production's CONN_MAX_AGE does), settings and keys,
    with DEBUG off (no query log in memory) and no access log."""

    def __init__(
        self,
        *,
        workers: int = 2,
        worker_class: str = "gthread",
        threads: int = 4,
        settings_module: str | None = None,
        extra_env: dict | None = None,
    ):
        self.port = free_port()
        self.logdir = Path(tempfile.mkdtemp(prefix="bench-gunicorn-"))
        self.args = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--log-level", "warning",
            "--keep-alive", "30",
            "--backlog", "256",
        ]  # fmt: skip
        if worker_class == "gthread":
            self.args += ["--threads", str(threads)]
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module
            or os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
            "SECRET_KEY": settings.SECRET_KEY,
            "SUPPRESSION_HMAC_KEY": settings.SUPPRESSION_HMAC_KEY,
            "DATABASE_URL": database_url() + "?conn_max_age=600",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        with open(self.logdir / "gunicorn.log", "ab") as log:
            self.process = subprocess.Popen(
                self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
            )
        try:
            wait_for_port(self.port, timeout=60)
            deadline = time.monotonic() + 60
            while True:  # the port answers before every worker has loaded Django
                status, _body = request(self.port, "GET", "/api/v1/")
                if status == 200:
                    break
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"gunicorn did not start; log in {self.logdir}")
                time.sleep(0.1)
        except BaseException:
            self.__exit__()
            raise
        return self

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and its live workers have used so far: the
        server's own cost per request, whatever else the machine is running."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in _tree(self.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    # This process's CPU time while the clients ran (their own cost, not the server's).
    client_cpu_seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile_ms(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 1)


class LeanConnection:
    """A keep-alive HTTP/1.1 client on one socket, as lean as a client can be: the request's
    bytes are put together by hand and the answer is read by its Content-Length (or chunks).
    ``http.client`` parses every answer's headers with the e-mail parser: with 8 clients in one
    process its CPU was taken from the 2 cores the server and the database share. ``post``
    sends a body to the path and headers given; ``exchange`` sends a whole request as it is."""

    def __init__(self, port: int, path: str = "/", headers: dict | None = None, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self.buffer = b""

    def post(self, body: bytes) -> tuple[int, bool]:
        """(status, whether the server closes the connection)."""
        return self.exchange(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)

    def exchange(self, raw: bytes) -> tuple[int, bool]:
        """Send one request's bytes; (status, whether the server closes the connection)."""
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _sep, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        closes = b"\r\nconnection: close" in lowered
        at = lowered.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lowered.find(b"\r\n", at + 2)
            length = int(lowered[at + len(b"\r\ncontent-length:") : end if end >= 0 else None])
            while len(self.buffer) < length:
                self._fill()
            self.buffer = self.buffer[length:]
        elif b"\r\ntransfer-encoding: chunked" in lowered:
            while b"\r\n0\r\n\r\n" not in b"\r\n" + self.buffer:
                self._fill()
            self.buffer = (b"\r\n" + self.buffer).partition(b"\r\n0\r\n\r\n")[2]
        else:
            closes = True  # the body ends with the connection
        return status, closes

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def hammer(
    *, port: int, path: str, bodies: list[bytes], headers: dict, clients: int, timeout: float = 300
) -> LoadResult:
    """POST each body once, from `clients` threads each on its own keep-alive connection
    (reopened when the server closes it); bounded by the bodies and by `timeout`. The result
    holds this process's CPU time meanwhile (the clients' own cost)."""
    lock = threading.Lock()
    todo = iter(bodies)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + timeout

    def client():
        conn = None
        mine, codes = [], {}
        while time.monotonic() < deadline:
            with lock:
                body = next(todo, None)
            if body is None:
                break
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = LeanConnection(port, path, headers)
                status, closes = conn.post(body)
                if closes:
                    conn.close()
                    conn = None
            except (OSError, ValueError):
                status = 0
                if conn is not None:
                    conn.close()
                conn = None
            mine.append(time.perf_counter() - started)
            codes[status] = codes.get(status, 0) + 1
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            for status, count in codes.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = LoadResult(time.perf_counter() - started, latencies, statuses)
    result.client_cpu_seconds = time.process_time() - cpu
    return result
