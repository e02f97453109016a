#!/usr/bin/env python3
"""Run a command beside throwaway PostgreSQL and Redis servers on free loopback ports.

    python scripts/with_services.py -- pytest -q

Both live in a temporary directory and are stopped (and the directory removed) when the command
ends, also on failure or Ctrl-C. DATABASE_URL and CELERY_BROKER_URL point the command at them.
Where a binary is missing the command runs without that service, and the tests that need it
skip with a reason (or fail under CI=true).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str | None:
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
            time.sleep(0.1)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port}")


class Postgres:
    def __init__(self, root: str):
        self.initdb, self.pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.dir = os.path.join(root, "pg")
        self.port = free_port()
        # PostgreSQL refuses to run as root: run it as the postgres user on a directory it owns.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def start(self) -> str:
        os.makedirs(self.dir)
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        subprocess.run(
            [*self.as_user, self.initdb, "-D", f"{self.dir}/data", "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-locale"],
            check=True, **quiet,
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", f"{self.dir}/data", "-o", options,
             "-l", f"{self.dir}/log", "-w", "start"],
            check=True, **quiet,
        )  # fmt: skip
        wait_for_port(self.port)
        import_psycopg_create_db(self.port)
        return f"postgres://postgres@127.0.0.1:{self.port}/shop"

    def stop(self) -> None:
        if os.path.exists(f"{self.dir}/data/postmaster.pid"):
            subprocess.run(
                [*self.as_user, self.pg_ctl, "-D", f"{self.dir}/data", "-m", "immediate", "stop"],
                check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip


def import_psycopg_create_db(port: int) -> None:
    """Create the `shop` database (pytest creates its own test_shop beside it)."""
    try:
        import psycopg
    except ImportError:
        return
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as c:
        c.execute("CREATE DATABASE shop")


class Redis:
    def __init__(self, root: str):
        self.binary = shutil.which("redis-server")
        self.dir = os.path.join(root, "redis")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def available(self) -> bool:
        return bool(self.binary)

    def start(self) -> str:
        os.makedirs(self.dir)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--protected-mode", "yes"],
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


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="shop-services-")
    os.chmod(root, 0o755)
    env = dict(os.environ)
    postgres, redis = Postgres(root), Redis(root)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        if postgres.available:
            env["DATABASE_URL"] = postgres.start()
            print(f"with_services: PostgreSQL on 127.0.0.1:{postgres.port}", flush=True)
        else:
            print("with_services: no initdb/pg_ctl here: PostgreSQL tests will skip", flush=True)
        if redis.available:
            env["CELERY_BROKER_URL"] = redis.start()
            print(f"with_services: Redis on 127.0.0.1:{redis.port}", flush=True)
        else:
            print("with_services: no redis-server here: worker tests will skip", flush=True)
        return subprocess.call(argv, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
