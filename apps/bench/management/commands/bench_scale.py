"""The shop at size: N customers, then pages, admin and jobs measured in one run.

    python scripts/with_services.py -- python manage.py bench_scale --customers 100000

In a database and on a broker queue of its own (apps.bench.isolation), created and dropped by
the command, so the configured data is left as it was:
  1. builds N customers with PostgreSQL COPY (apps.bench.scale_population: members and guests,
     5 orders each, 10 consent events each, subscriptions, 1 % with privacy requests, 10 % of
     the guests inactive past the retention limit, one member with 10,000 orders), then ANALYZE;
  2. starts gunicorn (2 × CPUs + 1 sync workers, production settings, persistent connections:
     the README's production line) and measures
     `/mypage/`, `/mypage/orders/`, `/mypage/privacy/` (members at random, sessions made up
     front) and `/privacy/` at 20 concurrent clients, then the admin changelists of customers,
     orders and requests, with and without a search, as a privacy officer;
  3. times the eligible-recipient count of a campaign and its fan-out to every eligible person
     in a real Celery worker (and the worker's peak RSS);
  4. builds the disclosure package of the person with 10,000 orders in a process of its own
     (time, peak RSS), then erases that person through the real service (queries, time);
  5. runs the inactive-guest retention rule (guests/s).
The last line of output is one JSON object, with issue 16's targets checked against its figures
(apps.bench.scale_targets). Figures only: nothing asserts a timing."""

from __future__ import annotations

import json
import os
import sys
import time

from django.core.management import BaseCommand, CommandError
from django.db import connection
from django.utils.crypto import get_random_string

from apps.bench.isolation import isolated
from apps.bench.scale_targets import targets_check

PAGES = {
    "mypage": "/mypage/",
    "mypage_orders": "/mypage/orders/",
    "mypage_privacy": "/mypage/privacy/",
    "privacy": "/privacy/",
}
# What staff type into the search box: a family name, an order number, a request reference.
ADMIN_PAGES = {
    "customers": ("/admin/customers/customer/", "佐藤"),
    "orders": ("/admin/orders/order/", "{order_number}"),
    "requests": ("/admin/privacy_requests/privacyrequest/", "PR-S00000001"),
}


class Command(BaseCommand):
    help = "Scale benchmark: N customers by COPY, then pages, admin, campaign, erasure, retention."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--big-orders", type=int, default=10_000)
        parser.add_argument("--clients", type=int, default=20)
        parser.add_argument("--page-requests", type=int, default=2000, help="per page")
        parser.add_argument("--admin-requests", type=int, default=40, help="per changelist view")
        parser.add_argument("--sessions", type=int, default=500, help="member sessions")
        # gunicorn's advice for sync workers, behind a proxy that buffers slow clients: a request
        # then has a process to itself, and the next one waits in the kernel's queue, not behind
        # a busy worker's other keep-alive connections (p99 90 ms against 183 for 3 gthread × 4
        # at the same throughput, 20,000 customers).
        parser.add_argument("--gunicorn-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
        parser.add_argument("--gunicorn-worker-class", choices=["sync", "gthread"], default="sync")
        parser.add_argument("--gunicorn-threads", type=int, default=4, help="gthread only")
        parser.add_argument(
            "--scan-max",
            type=int,
            default=5000,
            help="up to this N, search the whole database for the erased person's values "
            "afterwards (slow at size); above it, check the person's own rows",
        )
        parser.add_argument(
            "--retention-sample",
            type=int,
            default=2000,
            help="above this many inactive guests, time the rule on this many",
        )
        parser.add_argument(
            "--send-seconds", type=float, default=10, help="after the fan-out, count mails sent"
        )
        parser.add_argument("--timeout", type=float, default=1800)
        parser.add_argument(
            "--fanout-rss-baseline-mb",
            type=float,
            help="the fan-out worker's peak RSS at N = 100,000, to check the 1.25× target",
        )

    def handle(self, *args, **options):
        from config.celery_app import app

        n = options["customers"]
        if n < 10:
            raise CommandError("--customers must be at least 10")
        if connection.vendor != "postgresql":
            raise CommandError("bench_scale measures PostgreSQL: set DATABASE_URL")
        self.options = options
        self.run_id = get_random_string(6, "abcdefghijkmnpqrstuvwxyz23456789")
        result = {"customers": n}
        with isolated(label="bench_scale"):
            was_eager = app.conf.task_always_eager
            app.conf.task_always_eager = False  # the real broker, whatever the settings default
            try:
                result.update(self._run(n))
            finally:
                app.conf.task_always_eager = was_eager
        result["loadavg"] = _loadavg()
        result.update(targets_check(result, rss_baseline_mb=options["fanout_rss_baseline_mb"]))
        self._log(
            "targets (stated at 1,000,000 customers): "
            + ", ".join(
                f"{k} {'met' if t['met'] else 'NOT met'}" for k, t in result["targets"].items()
            )
        )
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _run(self, n: int) -> dict:
        from apps.bench.scale_population import build_scale

        out: dict = {"loadavg_start": _loadavg(), "cpus": os.cpu_count()}
        self._log(f"building {n} customers (run {self.run_id})…")
        scale = build_scale(n=n, run=self.run_id, big_orders=self.options["big_orders"],
                            log=self._log)  # fmt: skip
        self._log(f"population: {scale.seconds:.1f}s {scale.seconds_by_table}")
        out.update(
            population_s=round(scale.seconds, 1),
            population_s_by_table=scale.seconds_by_table,
            counts=self._counts(),
            expected=scale.expected,
            database_mb=self._database_mb(),
            table_mb=self._table_mb(),
        )
        phases: dict[str, float] = {}

        def phase(name, function, *args):
            started = time.monotonic()
            value = function(*args)
            phases[name] = round(time.monotonic() - started, 1)
            self._log(f"{name}: {phases[name]}s")
            return value

        out.update(phase("pages", self._pages, scale))
        out.update(phase("campaign", self._campaign, scale))
        out.update(phase("disclosure", self._disclosure, scale))
        out.update(phase("erasure", self._erasure, scale))
        out.update(phase("retention", self._retention, scale))
        out["phase_s"] = phases
        return out

    # ------------------------------------------------------------------ pages and admin

    def _pages(self, scale) -> dict:
        from apps.bench.pages import ProductionGunicorn, get_load, member_sessions, officer_session
        from apps.orders.models import Order

        options = self.options
        sessions = member_sessions(scale.member_user_ids, options["sessions"])
        officer = officer_session(run=self.run_id)
        order_number = (
            Order.objects.filter(customer_id=scale.big_customer_id - 1).values_list(
                "number", flat=True
            )[:1]
        )[0]
        out: dict = {}
        server = ProductionGunicorn(
            workers=options["gunicorn_workers"],
            threads=options["gunicorn_threads"],
            worker_class=options["gunicorn_worker_class"],
        )
        with server:
            # Warm: every worker process has loaded its templates and connected.
            for path in PAGES.values():
                get_load(port=server.port, paths=[path], sessions=sessions[:20],
                         clients=options["clients"],
                         requests=min(60, options["page_requests"]))  # fmt: skip
            for name, path in PAGES.items():
                load = get_load(
                    port=server.port, paths=[path],
                    sessions=[] if name == "privacy" else sessions,
                    clients=options["clients"], requests=options["page_requests"],
                    timeout=options["timeout"],
                )  # fmt: skip
                self._check(load, name, server)
                out[f"{name}_rps"] = round(load.requests / load.seconds, 1)
                out[f"{name}_p50_ms"] = load.percentile_ms(50)
                out[f"{name}_p99_ms"] = load.percentile_ms(99)
                self._log(f"{path}: {out[f'{name}_rps']} req/s, p99 {out[f'{name}_p99_ms']} ms")
            admin: dict = {}
            for name, (path, term) in ADMIN_PAGES.items():
                for searched in (False, True):
                    query = ""
                    if searched:
                        from urllib.parse import quote

                        query = "?q=" + quote(term.format(order_number=order_number))
                    get_load(port=server.port, paths=[path + query], sessions=[officer],
                             clients=1, requests=min(3, options["admin_requests"]))  # fmt: skip
                    load = get_load(
                        port=server.port, paths=[path + query], sessions=[officer], clients=2,
                        requests=options["admin_requests"], timeout=options["timeout"],
                    )  # fmt: skip
                    key = f"{name}{'_search' if searched else ''}"
                    self._check(load, f"admin {key}", server)
                    admin[key] = {
                        "p50_ms": load.percentile_ms(50),
                        "p95_ms": load.percentile_ms(95),
                    }
                    self._log(f"admin {key}: p95 {admin[key]['p95_ms']} ms")
        out["admin"] = admin
        out["admin_p95_ms"] = max(v["p95_ms"] for v in admin.values())
        out["gunicorn"] = {
            "workers": options["gunicorn_workers"],
            "worker_class": options["gunicorn_worker_class"],
            "threads": options["gunicorn_threads"]
            if options["gunicorn_worker_class"] == "gthread"
            else 1,
            "settings": "config.settings.production",
            "clients": options["clients"],
        }
        return out

    def _check(self, load, what: str, server) -> None:
        if set(load.statuses) != {200}:
            raise CommandError(f"{what}: answers {load.statuses}; see {server.logdir}")

    # ------------------------------------------------------------------ campaign

    def _campaign(self, scale) -> dict:
        from apps.bench.kit import CountingSink, Workers
        from apps.bench.population import BODY
        from apps.marketing import selectors, services
        from apps.marketing.models import Campaign, Delivery, MailMagazine

        magazine = MailMagazine.objects.get(pk=scale.magazine_id)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            count = selectors.eligible_count(magazine=magazine)
            timings.append(time.perf_counter() - started)
        campaign = Campaign.objects.create(
            magazine=magazine, subject="【デモショップ】秋の新茶のご案内", body_text=BODY
        )
        deliveries = Delivery.objects.filter(campaign=campaign)
        with CountingSink() as sink, Workers(count=1, sink_port=sink.port) as workers:
            started = time.perf_counter()
            services.campaign_send_now(campaign=campaign)
            # The fan-out writes the rows slice by slice (MARKETING_FANOUT_SLICE) and marks the
            # campaign in the same transaction as the last one.
            fanned_out = Campaign.objects.filter(pk=campaign.pk, fanned_out_at__isnull=False)
            deadline = time.monotonic() + self.options["timeout"]
            while not fanned_out.exists():
                if time.monotonic() > deadline:
                    raise CommandError(f"the fan-out did not finish; see {workers.logdir}")
                time.sleep(0.05)
            fanout_s = time.perf_counter() - started
            rss = workers.peak_rss_mb()
            # Then the same worker sends for a while: its rate at this size of database.
            window = self.options["send_seconds"]
            sink.reset()
            time.sleep(window)
            sent = sink.by_campaign.get(campaign.pk, 0)
        # The worker went on sending chunks to the sink until it was stopped; the rest of the
        # messages leave with the run's queue.
        return {
            "eligible_count": count,
            "eligible_count_s": round(sorted(timings)[1], 3),
            "eligible_count_first_s": round(timings[0], 3),
            "fanout_s": round(fanout_s, 2),
            "fanout_eligible": deliveries.count(),
            # What one campaign adds to the database, per recipient (the table and its indexes).
            "delivery_bytes_per_row": round(
                self._relation_bytes("marketing_delivery") / max(deliveries.count(), 1)
            ),
            "fanout_worker_peak_rss_mb": rss,
            # One solo worker on the same two cores as PostgreSQL, the sink and this process.
            "send_mails_per_s_1_worker": round(sent / window, 1) if window else None,
        }

    # ------------------------------------------------------------------ the big person

    def _officer(self):
        from django.contrib.auth.models import Group

        from apps.core import roles
        from apps.customers.models import User

        user = User.objects.create_user(
            email=f"officer.jobs.{self.run_id}@shop.example", password=None, is_staff=True
        )
        user.groups.add(Group.objects.get(name=roles.PRIVACY_OFFICER))
        return User.objects.get(pk=user.pk)

    def _filed(self, scale, **kwargs):
        """A request of the big person, filed from My Page, approved and set to be carried out
        (its task waits on the run's queue: this process runs the work itself)."""
        from apps.customers.models import Customer
        from apps.privacy_requests import services
        from apps.privacy_requests.models import FeeStatus

        officer = getattr(self, "officer", None) or self._officer()
        self.officer = officer
        customer = Customer.objects.select_related("user").get(pk=scale.big_customer_id)
        request = services.privacy_request_create_from_mypage(
            customer=customer, language="ja", **kwargs
        )
        if request.fee_status == FeeStatus.PENDING:  # an APPI disclosure: the fee is paid
            request = services.privacy_request_record_fee(
                privacy_request=request, fee_status=FeeStatus.RECEIVED, by=officer
            )
        request = services.privacy_request_approve(privacy_request=request, by=officer)
        return services.privacy_request_carry_out(privacy_request=request, by=officer)

    def _disclosure(self, scale) -> dict:
        from django.conf import settings

        from apps.bench.kit import database_url
        from apps.bench.pages import peak_rss_of
        from apps.privacy_requests.models import DisclosureForm, Kind, PrivacyRequest

        request = self._filed(
            scale, kind=Kind.DISCLOSURE, disclosure_form=DisclosureForm.ELECTRONIC
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_DEBUG": "false",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": _queue(),
            "PRIVACY_PRIVATE_ROOT": str(settings.PRIVACY_PRIVATE_ROOT),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SECRET_KEY": settings.SECRET_KEY,
            "SUPPRESSION_HMAC_KEY": settings.SUPPRESSION_HMAC_KEY,
        }
        code, _rss, text = peak_rss_of(
            [sys.executable, "-m", "apps.bench.build_package", str(request.pk)], env
        )
        line = next((x for x in text.splitlines() if x.startswith("{")), "")
        if code != 0 or not line:
            raise CommandError(f"the disclosure package was not built: {text[-2000:]}")
        built = json.loads(line)
        request = PrivacyRequest.objects.get(pk=request.pk)
        return {
            "disclosure_s": round(built["seconds"], 2),
            # The building process's resident memory at its peak during the build (Django and
            # the app loaded), and before it.
            "disclosure_peak_rss_mb": built["peak_rss_mb"],
            "disclosure_rss_before_mb": built["rss_before_mb"],
            "disclosure_package_mb": round(request.package.size / 1e6, 2),
        }

    def _erasure(self, scale) -> dict:
        from apps.bench.people import QueryCounter
        from apps.bench.scale_population import own_rows_left
        from apps.bench.scan import needles_for_customer, scan_database
        from apps.customers.models import Customer
        from apps.orders.models import Order
        from apps.privacy_requests.models import Kind
        from apps.privacy_requests.services import privacy_request_execute

        customer = Customer.objects.select_related("user").get(pk=scale.big_customer_id)
        needles = needles_for_customer(customer)
        orders = Order.objects.filter(customer=customer).count()
        request = self._filed(scale, kind=Kind.ERASURE)
        counter = QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            done = privacy_request_execute(privacy_request_id=request.pk)
        seconds = time.perf_counter() - started
        if not done:
            raise CommandError("the erasure did not run")
        self._send_notices(scale)
        rows_left = own_rows_left(customer.pk)
        scanned = scale.n <= self.options["scan_max"]
        if scanned:
            hits = scan_database(needles)
            for hit in hits:  # where and what kind, never the value
                self._log(f"LEFT: {hit}")
            leftover = sum(hit.count for hit in hits)
        else:  # a database-wide scan of millions of rows takes too long: the person's own rows
            leftover = rows_left
        return {
            "erasure_orders": orders,
            "erasure_queries": counter.total,
            "erasure_queries_by_part": dict(counter.by_part),
            "erasure_s": round(seconds, 2),
            "erasure_leftover_personal_values": leftover,
            "erasure_leftover_scope": "database" if scanned else "own rows",
            "erasure_own_rows_left": rows_left,
        }

    def _send_notices(self, scale) -> None:
        """The big person's notices, sent here as the worker would (to a mailbox in memory):
        the last one sent erases the requesters' contact details from the requests."""
        from django.test import override_settings

        from apps.privacy_requests.models import Notice
        from apps.privacy_requests.services import notice_send

        pending = Notice.objects.filter(
            privacy_request__customer_id=scale.big_customer_id, sent_at=None
        ).values_list("pk", flat=True)
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            for notice_id in list(pending):
                notice_send(notice_id=notice_id)

    # ------------------------------------------------------------------ retention

    def _retention(self, scale) -> dict:
        """The inactive-guest rule as the daily retention run applies it. Past
        --retention-sample guests, the first that many are anonymised the way the rule does
        (its batches of RETENTION_GUEST_BATCH, after the same selection), and the rate is
        theirs."""
        from django.conf import settings
        from django.utils import timezone

        from apps.orders.retention import (
            anonymise_guest_batch,
            anonymise_inactive_guests,
            inactive_guest_ids,
        )

        today = timezone.localdate()
        started = time.perf_counter()
        ids = inactive_guest_ids(today=today)
        select_s = time.perf_counter() - started
        sample = self.options["retention_sample"]
        started = time.perf_counter()
        if len(ids) <= sample:
            count = anonymise_inactive_guests(today=today)
        else:
            size = settings.RETENTION_GUEST_BATCH
            count = sum(
                anonymise_guest_batch(customer_ids=ids[start : start + size], today=today)
                for start in range(0, sample, size)
            )
        seconds = time.perf_counter() - started
        return {
            "retention_inactive_found": len(ids),
            "retention_select_s": round(select_s, 2),
            "retention_guests": count,
            "retention_s": round(seconds, 2),
            "retention_guests_per_s": round(count / seconds, 1) if seconds else None,
        }

    # ------------------------------------------------------------------ figures

    def _counts(self) -> dict:
        from apps.consents.models import ConsentEvent
        from apps.customers.models import Customer
        from apps.orders.models import Order
        from apps.privacy_requests.models import PrivacyRequest

        return {
            "customers": Customer.objects.count(),
            "members": Customer.objects.filter(user__isnull=False).count(),
            "orders": Order.objects.count(),
            "consent_events": ConsentEvent.objects.count(),
            "privacy_requests": PrivacyRequest.objects.count(),
        }

    def _database_mb(self) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return round(cursor.fetchone()[0] / 1e6, 1)

    def _relation_bytes(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]

    def _table_mb(self) -> dict:
        """The ten largest tables with their indexes (MB)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace s ON s.oid = c.relnamespace "
                "WHERE relkind = 'r' AND nspname = 'public' ORDER BY 2 DESC LIMIT 10"
            )
            return {name: round(size / 1e6, 1) for name, size in cursor.fetchall()}

    def _log(self, message: str) -> None:
        self.stderr.write(f"bench_scale: {message}")  # figures and ids only, never personal data


def _queue() -> str:
    from config.celery_app import app

    return app.conf.task_default_queue


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return ""
