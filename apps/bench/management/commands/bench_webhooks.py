"""Publish N events to one webhook endpoint and have real Celery workers deliver them to a local
receiver that fails 10% of calls (500) and times out 2% (it sleeps past the sender's timeout),
verifying every signature; print what it took.

    python scripts/with_services.py -- python manage.py bench_webhooks --events 10000

It runs in a database and on a broker queue of its own (apps.bench.isolation). The workers use
the production code with two benchmark settings: WEBHOOK_TIMEOUT_SECONDS (2 s instead of 10, so
a timed-out call costs the run 2 s, not 10) and WEBHOOK_RETRY_SCHEDULE (waits of 0.2 s to 4 s
instead of 5 s to 2 h, so retries happen within the run); the retry logic is the same. This
process stands in for beat: it runs the sweep every second.

Events are published as several web processes and a storefront's sync would: `--publishers`
processes, each `--batch` events per transaction, each through ``event_publish`` (the hub writes
the delivery rows), as fast as they can, or at `--rate` events per second in all (an open
loop, as a shop's traffic arrives: the first-attempt latency of a given load).

Figures: ``lost`` counts events the receiver never acknowledged; ``duplicates_seen_by_receiver``
counts deliveries of an event it had already acknowledged (a timed-out call that the receiver
did finish is sent again: at least once, with the same ``webhook-id`` to drop it by);
``events_per_s`` is events over the time from the first publish to the last acknowledgement;
``p99_first_attempt_s`` and ``p99_delivered_s`` are measured from each event's publication.

The last line printed is one JSON object."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import threading
import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import override_settings

from apps.bench.isolation import isolated
from apps.bench.kit import Workers
from apps.bench.servers import free_port, wait_for_port

TIMEOUT_S = 2.0
RETRY_SCHEDULE = "0.2,0.5,1,2,4,4,4"


class Command(BaseCommand):
    help = "Benchmark outgoing webhooks (needs PostgreSQL and Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=10_000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--batch", type=int, default=10, help="events per transaction")
        parser.add_argument(
            "--publishers", type=int, default=4, help="processes publishing (web processes)"
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=0,
            help="events offered per second, all publishers together (0: as fast as they can)",
        )
        parser.add_argument("--concurrency", type=int, default=32, help="requests per worker")
        parser.add_argument("--fail", type=float, default=0.10)
        parser.add_argument("--slow", type=float, default=0.02)
        parser.add_argument("--max-seconds", type=float, default=600)

    def handle(self, *args, **options):
        with isolated(label="bench_webhooks"):
            result = self._run(options)
        self.stdout.write(json.dumps(result))

    def _run(self, options) -> dict:
        from apps.integration.outbound.models import DownstreamSystem
        from apps.integration.outbound.services import webhook_endpoint_create

        port = free_port()
        with override_settings(WEBHOOK_ALLOW_HTTP_LOOPBACK=True):
            system = DownstreamSystem.objects.create(
                name="bench storefront",
                kind=DownstreamSystem.Kind.STOREFRONT,
                reached_by=DownstreamSystem.Reach.WEBHOOK,
            )
            endpoint, secret = webhook_endpoint_create(
                system=system,
                url=f"http://127.0.0.1:{port}/hooks",
                event_types=["consent.changed"],
            )
        receiver = subprocess.Popen(
            [sys.executable, "-m", "apps.bench.webhook_receiver", "--port", str(port),
             "--secret", secret, "--fail", str(options["fail"]), "--slow", str(options["slow"]),
             "--sleep", str(TIMEOUT_S + 0.5)],
            cwd=settings.BASE_DIR,
        )  # fmt: skip
        try:
            wait_for_port(port)
            extra_env = {
                "WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_S),
                "WEBHOOK_RETRY_SCHEDULE": RETRY_SCHEDULE,
                "WEBHOOK_CONCURRENCY": str(options["concurrency"]),
                # Nobody is to be mailed; the workers need an address to start with.
                "EMAIL_URL": "consolemail://",
            }
            with Workers(count=options["workers"], sink_port=free_port(), extra_env=extra_env):
                return self._measure(endpoint, port, options)
        finally:
            receiver.terminate()
            receiver.wait(10)

    def _measure(self, endpoint, port: int, options) -> dict:
        from apps.integration.outbound.delivery import webhook_sweep
        from apps.integration.outbound.models import WebhookDelivery

        n, batch = options["events"], max(1, options["batch"])
        publishers_n = max(1, options["publishers"])
        stop = threading.Event()

        def beat():  # the sweep, every second, as beat runs it every minute
            while not stop.wait(1.0):
                webhook_sweep()
            connection.close()

        sweeper = threading.Thread(target=beat, daemon=True)
        self.stderr.write(f"bench_webhooks: publishing {n} events…")
        started = time.perf_counter()
        try:
            # Processes, as web processes are (threads would share one interpreter lock).
            connection.close()  # the children must not share this process's connection
            context = multiprocessing.get_context("fork")
            rate = options["rate"] / publishers_n if options["rate"] > 0 else 0.0
            publishers = [
                context.Process(target=_publish, args=(range(k, n, publishers_n), batch, rate))
                for k in range(publishers_n)
            ]
            for publisher in publishers:
                publisher.start()
            sweeper.start()  # after the fork: a child must not inherit its connection
            for publisher in publishers:
                publisher.join()
            published = time.perf_counter() - started
            self.stderr.write(f"bench_webhooks: published in {published:.1f}s, delivering…")
            deadline = time.monotonic() + options["max_seconds"]
            while time.monotonic() < deadline:
                if _stats(port)["acknowledged"] >= n:
                    break
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            # The rows of calls the receiver finished after the sender's timeout are sent again.
            while time.monotonic() < deadline and _undelivered(endpoint):
                time.sleep(0.2)
        finally:
            stop.set()
            if sweeper.is_alive():
                sweeper.join(5)
        time.sleep(TIMEOUT_S + 1)  # calls still in flight (slow ones) end before counting
        stats = _stats(port)
        rows = WebhookDelivery.objects.filter(endpoint=endpoint)
        first_attempt = sorted(
            (row["first_attempt_at"] - row["created_at"]).total_seconds()
            for row in rows.filter(first_attempt_at__isnull=False).values(
                "first_attempt_at", "created_at"
            )
        )
        delivered = sorted(
            (row["delivered_at"] - row["created_at"]).total_seconds()
            for row in rows.filter(status=WebhookDelivery.Status.DELIVERED).values(
                "delivered_at", "created_at"
            )
        )
        attempts = sum(rows.values_list("attempts", flat=True))
        return {
            "events": n,
            "delivered": len(delivered),
            "lost": n - stats["acknowledged"],
            "duplicates_seen_by_receiver": stats["duplicates"],
            "events_per_s": round(n / seconds, 1),
            "p99_first_attempt_s": _p99(first_attempt),
            "p99_delivered_s": _p99(delivered),
            "seconds": round(seconds, 2),
            "receiver_calls": stats["calls"],
            "receiver_failed": stats["failed"],
            "receiver_timed_out": stats["slowed"],
            "bad_signatures": stats["bad_signatures"],
            "attempts": attempts,
            "given_up": rows.filter(status=WebhookDelivery.Status.GIVEN_UP).count(),
            "offered_events_per_s": options["rate"] or None,
            "published_s": round(published, 2),
            "workers": options["workers"],
            "concurrency_per_worker": options["concurrency"],
            "timeout_s": TIMEOUT_S,
            "retry_schedule_s": RETRY_SCHEDULE,
        }


def _publish(ids, batch: int, rate: float = 0.0) -> None:
    """One publisher (a web process): `batch` events per transaction; with a `rate` (events per
    second of this process), each transaction waits for the time its first event is due, as
    a shop's traffic arrives (an open loop: a slow delivery does not slow the offered load)."""
    from apps.core.events import event_publish

    ids = list(ids)
    started = time.perf_counter()
    try:
        for first in range(0, len(ids), batch):
            if rate:
                due = started + first / rate
                time.sleep(max(0.0, due - time.perf_counter()))
            with transaction.atomic():
                for i in ids[first : first + batch]:
                    event_publish(
                        "consent.changed",
                        customer_id=i + 1,
                        data={"purpose": "newsletter", "status": "withdrawn", "source": "bench"},
                    )
    finally:
        connection.close()


def _undelivered(endpoint) -> int:
    from apps.integration.outbound.models import WebhookDelivery

    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .exclude(status__in=[WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.GIVEN_UP])
        .count()
    )


def _stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as response:
        return json.loads(response.read())


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    return round(values[min(len(values) - 1, int(len(values) * 0.99))], 3)
