"""Throwaway PostgreSQL and Redis servers on free loopback ports, in a directory of the caller's.

Used by `scripts/with_services.py` (the test suite's services) and by `bench_faults` (servers it
may restart and stop). Standard library only (psycopg if installed), so the script can import it
before Django is set up."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str | None:
    """On PATH, else in Debian's versioned PostgreSQL directory."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port}")


class Postgres:
    """A throwaway cluster in `root`/pg with one database. PostgreSQL refuses to run as root: as
    root it runs as the postgres user, on a directory that user owns."""

    def __init__(self, root: str | Path, *, database: str, max_connections: int = 200):
        self.initdb, self.pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.dir = Path(root) / "pg"
        self.port = free_port()
        self.database = database
        self.max_connections = max_connections
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _ctl(self, *args: str, check: bool = True) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off "
            f"-c max_connections={self.max_connections}"
        )
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.dir / "data"), "-o", options,
             "-l", str(self.dir / "log"), "-w", *args],
            check=check, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def start(self) -> str:
        self.dir.mkdir(parents=True)
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            [*self.as_user, self.initdb, "-D", str(self.dir / "data"), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-locale"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._ctl("start")
        wait_for_port(self.port)
        try:
            import psycopg
        except ImportError:  # the suite's own venv has it; a bare interpreter gets no database
            pass
        else:
            admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def restart(self) -> None:
        """A fast shutdown (every session is ended) and a start, as `systemctl restart` does."""
        self._ctl("-m", "fast", "restart")
        wait_for_port(self.port)

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._ctl("-m", "immediate", "stop", check=False)


class Redis:
    """A Redis server in `root`/redis that keeps nothing on disk: stopping it loses every queued
    task (the harsher case: only the database may be trusted to remember)."""

    def __init__(self, root: str | Path):
        self.binary = shutil.which("redis-server")
        self.dir = Path(root) / "redis"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def available(self) -> bool:
        return bool(self.binary)

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port(self.port)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
