"""Pages under load for `bench_scale`: logged-in sessions made up front (members and a staff
user with the privacy officer role and a verified second factor), gunicorn with the production
settings, and a lean keep-alive GET load generator. Figures only; nothing asserts a timing."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings

from apps.bench.loadgen import Gunicorn, LeanConnection, LoadResult
from apps.customers.backends import BACKEND


def session_for(user, **extra) -> str:
    """A database session signed in to `user`, as the login view leaves it; returns its key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from apps.customers.sessions import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    for key, value in extra.items():
        store[key] = value
    store.create()
    return store.session_key


def member_sessions(user_ids: list[int], count: int, *, seed: int = 16) -> list[str]:
    """Sessions of `count` members chosen at random among `user_ids`."""
    from apps.customers.models import User

    chosen = random.Random(seed).sample(user_ids, min(count, len(user_ids)))  # noqa: S311
    return [session_for(user) for user in User.objects.filter(pk__in=chosen)]


def officer_session(*, run: str) -> str:
    """A staff user with the privacy officer role and a confirmed TOTP device, in a session
    that passed the second factor (django-otp's session key)."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.core import roles
    from apps.customers.models import User

    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(
        email=f"officer.{run}@shop.example", password=None, is_staff=True
    )
    user.groups.add(Group.objects.get(name=roles.PRIVACY_OFFICER))
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return session_for(user, **{DEVICE_ID_SESSION_KEY: device.persistent_id})


class ProductionGunicorn(Gunicorn):
    """gunicorn on config.settings.production (through apps.bench.production_settings, which
    only points STATIC_ROOT at this run's collected files), plain HTTP on loopback with the
    proxy's X-Forwarded-Proto saying https, the cache in Redis."""

    def __init__(self, *, workers: int = 3, threads: int = 4, worker_class: str = "gthread"):
        self.static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
        broker = settings.CELERY_BROKER_URL
        production = {
            "BENCH_STATIC_ROOT": str(self.static_root),
            "SHOP_NAME": "デモショップ",
            "SHOP_POSTAL_ADDRESS": "〒100-0001 東京都千代田区千代田1-1",
            "SHOP_REPRESENTATIVE": "代表 山田",
            "SHOP_CONTACT_EMAIL": "privacy@shop.example",
            "SITE_URL": "https://shop.example",
            "CACHE_URL": broker.rsplit("/", 1)[0] + "/3",
            "SECURE_SSL_REDIRECT": "false",  # the ready probe is plain HTTP; pages send the header
            "CONN_MAX_AGE": "600",
            "PRIVACY_PRIVATE_ROOT": str(settings.PRIVACY_PRIVATE_ROOT),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            # Production requires it; the run's own, as its keys are (apps/bench/kit.py).
            "PSEUDONYMISATION_KEY": settings.PSEUDONYMISATION_KEY or "bench-pseudonymisation",
        }
        super().__init__(
            workers=workers,
            worker_class=worker_class,
            threads=threads,
            settings_module="apps.bench.production_settings",
            extra_env=production,
        )

    def __enter__(self):
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            env=self.env, cwd=settings.BASE_DIR, check=True,
        )  # fmt: skip
        return super().__enter__()


def get_load(
    *, port: int, paths: list[str], sessions: list[str], clients: int, requests: int,
    timeout: float = 300,
) -> LoadResult:  # fmt: skip
    """`requests` GETs in all from `clients` keep-alive threads, each request to one of `paths`
    with one of `sessions` (in turn), as https behind a proxy."""
    cookie = settings.SESSION_COOKIE_NAME
    raws = [
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Forwarded-Proto: https\r\n"
            f"Accept-Language: ja\r\n" + (f"Cookie: {cookie}={key}\r\n" if key else "") + "\r\n"
        ).encode("latin-1")
        for path in paths
        for key in (sessions or [""])
    ]
    lock = threading.Lock()
    counter = iter(range(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + timeout

    def client(offset):
        conn = None
        mine, codes = [], {}
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = LeanConnection(port)
                status, closes = conn.exchange(raws[(i * 7 + offset) % len(raws)])
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

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = LoadResult(time.perf_counter() - started, latencies, statuses)
    result.client_cpu_seconds = time.process_time() - cpu
    return result


def peak_rss_of(command: list[str], env: dict) -> tuple[int, float, str]:
    """Run `command` to its end; (exit code, its peak resident memory in MB, its output)."""
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), round(usage.ru_maxrss / 1024, 1), text
