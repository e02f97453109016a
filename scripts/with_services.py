#!/usr/bin/env python3
"""Run a command beside throwaway PostgreSQL and Redis servers on free loopback ports.

    python scripts/with_services.py -- pytest -q

Both live in a temporary directory and are stopped (and the directory removed) when the command
ends, also on failure or Ctrl-C. DATABASE_URL and CELERY_BROKER_URL point the command at them.
Where a binary is missing the command runs without that service, and the tests that need it
skip with a reason (or fail under CI=true).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

# The servers themselves live with the benchmarks' (standard library only, importable before
# Django is set up); this script runs from the repository root's scripts/ folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from apps.bench.servers import Postgres, Redis


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="shop-services-")
    os.chmod(root, 0o755)
    env = dict(os.environ)
    postgres, redis = Postgres(root, database="shop"), Redis(root)

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
