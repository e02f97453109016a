"""Benchmark of erasure through the real workflow, a real worker and a real database.

    python manage.py bench_erasure --customers 1000

In a database of its own on the configured PostgreSQL server (created, migrated and dropped
by the command) and on a queue of its own on the configured broker (apps.bench.isolation), so
the configured data is left as it was: builds the people (bulk inserts), files an erasure request for each from My Page through the
services, has a privacy officer approve it, then
  1. measures the queries of one erasure task for a person with 1 order and with 1,000;
  2. runs a naive baseline: the same erasures inline, one by one, in this process, each with
     its completion mail over a fresh SMTP connection (no Celery);
  3. starts a real `celery -A config worker` and a local SMTP sink, carries out every request
     (the task is enqueued on commit by the service staff use) and waits until each is
     completed and each notice sent;
  4. searches every text column of every table, and every stored file, for any of the people's
     names, kana, e-mails, phones, postal codes and streets.
The last line of output is one JSON object.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from django.core.management import BaseCommand, CommandError
from django.db import connection
from django.utils.crypto import get_random_string

from apps.bench.isolation import isolated
from apps.bench.people import QueryCounter


class Command(BaseCommand):
    help = "Erasure benchmark: real worker, real database, database-wide scan afterwards."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument(
            "--naive", type=int, default=None, help="people in the inline baseline (default N/10)"
        )
        parser.add_argument("--orders-each", type=int, default=2)
        parser.add_argument(
            "--big-orders", type=int, default=1000, help="orders of the second query probe"
        )
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
        parser.add_argument("--threads", type=int, default=2, help="threads filing requests")
        parser.add_argument(
            "--worker-settings", default=None, help="DJANGO_SETTINGS_MODULE for the worker"
        )
        parser.add_argument("--worker-loglevel", default="WARNING")
        parser.add_argument("--timeout", type=float, default=600)
        parser.add_argument(
            "--show-queries",
            action="store_true",
            help="print the SQL text (never its parameters) of the 1-order probe to stderr",
        )

    def handle(self, *args, **options):
        import logging

        from config.celery_app import app

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: one line per mail
        n = options["customers"]
        if n < 1:
            raise CommandError("--customers must be at least 1")
        if connection.vendor != "postgresql":
            raise CommandError("bench_erasure measures PostgreSQL: set DATABASE_URL")
        naive_n = options["naive"] if options["naive"] is not None else max(1, n // 10)
        settings_module = options["worker_settings"]  # None: this process's (see apps.bench.kit)
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-erasure-"))
        self.run_id = get_random_string(6, "abcdefghijkmnpqrstuvwxyz23456789")
        self.show_queries = options["show_queries"]
        result = {"customers": n}
        with isolated(label="bench_erasure"):
            self.officer = self._officer()
            was_eager = app.conf.task_always_eager
            app.conf.task_always_eager = False  # the real broker, whatever the settings default
            try:
                with self._sink() as sink:
                    result.update(self._run(n, naive_n, options, sink, settings_module))
            finally:
                app.conf.task_always_eager = was_eager
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    # ------------------------------------------------------------------ steps

    def _run(self, n, naive_n, options, sink, settings_module) -> dict:
        from apps.bench import scan
        from apps.bench.kit import Workers
        from apps.bench.people import insert_people, needles_of, plan_people

        big_orders = options["big_orders"]
        started = time.monotonic()
        runs = {"t": n, "n": naive_n + 1, "b": 1}
        plans = {key: plan_people(count, run=self.run_id + key) for key, count in runs.items()}
        needles = needles_of([p for plan in plans.values() for p in plan])
        baseline = scan.scan(needles)
        if baseline:
            raise CommandError(
                "the people's values already occur before the benchmark: "
                + "; ".join(map(str, baseline))
            )
        timed, naive = (
            insert_people(plans[key], run=self.run_id + key, orders_each=options["orders_each"])
            for key in ("t", "n")
        )
        big = insert_people(plans["b"], run=self.run_id + "b", big_orders=big_orders)
        setup_s = time.monotonic() - started
        self._log(f"built {n}+{naive_n}+1 people, {timed.orders + naive.orders + big.orders} "
                  f"orders in {setup_s:.1f}s")  # fmt: skip

        # Baseline and probes before any worker runs (so nothing else competes for the CPU).
        started = time.monotonic()
        naive_ids = self._file_and_approve(naive.customer_ids)
        probe_small_id = naive_ids.pop()
        big_id = self._file_and_approve(big.customer_ids)[0]
        filing_s = time.monotonic() - started
        # The baseline first: the probes then run warm, like every erasure but the first.
        naive_rate = self._naive(naive_ids, sink)
        queries_1 = self._queries_of_one_erasure(probe_small_id, show=self.show_queries)
        queries_1000 = self._queries_of_one_erasure(big_id)
        self._log(f"queries per erasure: {dict(queries_1.by_part)} (1 order)")

        workers = Workers(
            sink_port=sink.port,
            pool="prefork",
            concurrency=options["concurrency"],
            settings_module=settings_module,
            loglevel=options["worker_loglevel"],
        )
        with workers:
            # The worker sends the receipts and decisions while the rest is filed; the erasures
            # are timed once it has drained them.
            started = time.monotonic()
            timed_ids = self._file_and_approve(timed.customer_ids, threads=options["threads"])
            filing_s += time.monotonic() - started
            self._wait_notices_sent([*timed_ids, *naive_ids, probe_small_id, big_id], options)
            sent_before = sink.received
            started = time.monotonic()
            self._carry_out(timed_ids)
            self._wait_done(timed_ids, options)
            seconds = time.monotonic() - started
            peak_rss_mb = workers.peak_rss_mb()
        self._log(f"worker: {n} erasures in {seconds:.2f}s (log: {workers.logdir})")

        started = time.monotonic()
        hits = scan.scan(needles)
        scan_s = time.monotonic() - started
        for hit in hits:
            self._log(f"LEFT: {hit}")
        rate = n / seconds
        return {
            "erased": self._erased(timed.customer_ids),
            "seconds": round(seconds, 3),
            "erasures_per_s": round(rate, 1),
            "leftover_personal_values": sum(hit.count for hit in hits),
            "pii_hits_after": len(hits),
            "db_queries_per_erasure": queries_1.total,
            "queries_per_erasure": {
                "1_order": queries_1.total,
                f"{big_orders}_orders": queries_1000.total,
            },
            "queries_per_erasure_by_part": dict(sorted(queries_1.by_part.items())),
            "worker_peak_rss_mb": peak_rss_mb,
            "worker_concurrency": options["concurrency"],
            "cpus": os.cpu_count(),
            "notices_sent": sink.received - sent_before,
            "naive_customers": len(naive_ids),
            "naive_erasures_per_s": round(naive_rate, 1),
            "speedup_vs_naive": round(rate / naive_rate, 2) if naive_rate else None,
            "setup_seconds": round(setup_s, 1),
            "filing_seconds": round(filing_s, 1),
            "scan_seconds": round(scan_s, 1),
            "scanned_values": sum(len(v) for v in needles.values()),
        }

    def _officer(self):
        from django.contrib.auth.models import Group

        from apps.core import roles
        from apps.core.services import roles_setup
        from apps.customers.models import User

        roles_setup()
        user = User.objects.create_user(
            email=f"bench-officer-{self.run_id}@shop.example.jp",
            password=get_random_string(32),
            is_staff=True,
        )
        user.groups.add(Group.objects.get(name=roles.PRIVACY_OFFICER))
        return User.objects.get(pk=user.pk)

    def _sink(self):
        from apps.bench.kit import CountingSink

        try:
            return CountingSink()
        except ImportError as exc:
            raise CommandError("bench_erasure needs aiosmtpd (pip install -e '.[dev]')") from exc

    def _file_and_approve(self, customer_ids: list[int], threads: int = 1) -> list[int]:
        """Each person's erasure request from My Page (their login verifies them), approved by
        the privacy officer: the same services the site and the admin call. Several threads
        (each with its own database connection) stand for several people at once."""
        from concurrent.futures import ThreadPoolExecutor

        from django.db import connections

        chunks = [customer_ids[k::threads] for k in range(threads)]

        def file(chunk):
            try:
                return self._file_chunk(chunk)
            finally:
                if threads > 1:
                    connections.close_all()

        if threads == 1:
            return file(customer_ids)
        with ThreadPoolExecutor(threads) as pool:
            return sorted(pk for ids in pool.map(file, chunks) for pk in ids)

    def _file_chunk(self, customer_ids: list[int]) -> list[int]:
        from apps.customers.models import Customer
        from apps.privacy_requests import services
        from apps.privacy_requests.models import Kind

        ids = []
        for customer in Customer.objects.filter(pk__in=customer_ids).order_by("pk"):
            request = services.privacy_request_create_from_mypage(
                customer=customer, kind=Kind.ERASURE, language="ja"
            )
            services.privacy_request_approve(privacy_request=request, by=self.officer)
            ids.append(request.pk)
        return ids

    def _carry_out(self, request_ids: list[int]) -> None:
        from apps.privacy_requests import services
        from apps.privacy_requests.models import PrivacyRequest

        for request in PrivacyRequest.objects.filter(pk__in=request_ids).order_by("pk"):
            services.privacy_request_carry_out(privacy_request=request, by=self.officer)

    def _queries_of_one_erasure(self, request_id: int, *, show: bool = False) -> QueryCounter:
        """The SQL statements the erasure task runs, by part (its completion mail is left to
        the worker)."""
        from apps.privacy_requests import services

        self._carry_out([request_id])  # the task it enqueues will find nothing left to do
        counter = QueryCounter(keep_sql=show)
        with connection.execute_wrapper(counter):
            done = services.privacy_request_execute(privacy_request_id=request_id)
        if not done:
            raise CommandError("the probe erasure did not run")
        for part, sql in counter.statements or ():
            self.stderr.write(f"[{part}] {sql}")
        return counter

    def _naive(self, request_ids: list[int], sink) -> float:
        """The baseline: no Celery, each erasure and its completion mail inline, one SMTP
        connection per mail."""
        from apps.privacy_requests import services
        from apps.privacy_requests.models import Notice

        if not request_ids:
            return 0.0
        host, port = sink.url.removeprefix("smtp://").split(":")
        overrides = {
            "DEBUG": False,  # like the worker
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": host,
            "EMAIL_PORT": int(port),
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }
        from django.test import override_settings

        with override_settings(**overrides):
            started = time.monotonic()
            for request_id in request_ids:
                self._carry_out([request_id])
                services.privacy_request_execute(privacy_request_id=request_id)
                for notice_id in Notice.objects.filter(
                    privacy_request_id=request_id, kind=Notice.Kind.COMPLETION, sent_at=None
                ).values_list("pk", flat=True):
                    services.notice_send(notice_id=notice_id)
            seconds = time.monotonic() - started
        return len(request_ids) / seconds

    def _wait(self, done, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise CommandError(f"timed out waiting for {what}; see {self.workdir}")
            time.sleep(0.2)

    def _wait_notices_sent(self, request_ids, options) -> None:
        from apps.privacy_requests.models import Notice

        pending = Notice.objects.filter(privacy_request_id__in=request_ids, sent_at=None)
        self._wait(lambda: not pending.exists(), "the queued notices", options["timeout"])

    def _wait_done(self, request_ids, options) -> None:
        """Done = every request completed, its completion mail sent and, with that, the
        requester's contact details erased."""
        from apps.privacy_requests.models import PrivacyRequest, Status

        finished = PrivacyRequest.objects.filter(
            pk__in=request_ids, status=Status.COMPLETED, contact_erased_at__isnull=False
        )
        self._wait(lambda: finished.count() == len(request_ids), "the erasures", options["timeout"])

    def _erased(self, customer_ids) -> int:
        from apps.customers.models import Customer

        return Customer.objects.filter(pk__in=customer_ids, status=Customer.Status.ERASED).count()

    def _log(self, message: str) -> None:
        self.stderr.write(message)  # figures and ids only, never personal data
