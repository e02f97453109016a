"""Benchmark of the storefront API and the EC-CUBE import, through real gunicorn workers.

    python manage.py bench_ingest --orders 3000

In a database of its own on the configured PostgreSQL server (created, migrated and dropped by
the command; apps.bench.isolation), so the configured data is left as it was:
  1. makes an API client and the storefront's customers (``customers_upsert``, in bulks);
  2. counts the SQL statements of one ``POST /api/v1/orders/`` with 1 line and with 10 lines
     (in this process, through the same view);
  3. starts gunicorn (``--workers`` processes, gthread by default) on loopback and posts N
     orders one by one from ``--clients`` keep-alive clients, then N more in bulks of 1,000;
  4. stops gunicorn and imports an EC-CUBE 4 customer CSV (cp932) of ``--import-rows`` rows with
     ``manage.py import_customers FILE --format ecube --client NAME`` in a process of its own,
     reporting its rows/s and peak RSS (null when that command is not installed).
The last line of output is one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management import BaseCommand, CommandError, get_commands
from django.db import connection
from django.utils.crypto import get_random_string

from apps.bench.isolation import isolated

BULK_SIZE = 1000
IMPORT_CLIENT = "bench-ecube"


class Command(BaseCommand):
    help = "Ingest benchmark: orders through gunicorn (single and bulk), EC-CUBE CSV import."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=3000)
        parser.add_argument("--lines", type=int, default=2, help="lines per order")
        parser.add_argument("--customers", type=int, default=None, help="default min(N, 1000)")
        parser.add_argument("--import-rows", type=int, default=None, help="default N")
        parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
        parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
        parser.add_argument("--settings-module", default=None, help="gunicorn's settings")
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args, **options):
        n = options["orders"]
        if n < 1:
            raise CommandError("--orders must be at least 1")
        if connection.vendor != "postgresql":
            raise CommandError("bench_ingest measures PostgreSQL: set DATABASE_URL")
        self.run_id = get_random_string(6, "abcdefghijkmnpqrstuvwxyz23456789")
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        result = {"orders": n, "lines_per_order": options["lines"]}
        with isolated(label="bench_ingest"):
            result.update(self._run(n, options))
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _run(self, n: int, options) -> dict:
        from apps.bench.loadgen import Gunicorn, hammer
        from apps.bench.storefront import encoded, order_json

        key, customer_ids = self._setup(options["customers"] or min(n, 1000))
        queries = {
            "1_line": self._queries_of_one_order(key, customer_ids[0], lines=1),
            "10_lines": self._queries_of_one_order(key, customer_ids[0], lines=10),
        }
        self._log(f"queries per order: {queries}")

        def order(i, prefix):
            customer = customer_ids[i % len(customer_ids)]
            return order_json(
                i, run=self.run_id, customer_external_id=customer, lines=options["lines"],
                prefix=prefix,
            )  # fmt: skip

        singles = [encoded(order(i, "S")) for i in range(n)]
        bulks = [
            encoded([order(i, "B") for i in range(start, min(n, start + BULK_SIZE))])
            for start in range(0, n, BULK_SIZE)
        ]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        server = Gunicorn(
            workers=options["workers"],
            worker_class=options["worker_class"],
            threads=options["threads"],
            settings_module=options["settings_module"],
        )
        with server:
            warm = [encoded(order(i, "W")) for i in range(min(n, 40))]
            hammer(port=server.port, path="/api/v1/orders/", bodies=warm, headers=headers,
                   clients=options["clients"], timeout=options["timeout"])  # fmt: skip
            cpu_before = server.cpu_seconds()
            single = hammer(port=server.port, path="/api/v1/orders/", bodies=singles,
                            headers=headers, clients=options["clients"],
                            timeout=options["timeout"])  # fmt: skip
            cpu_single = server.cpu_seconds() - cpu_before
            bulk = hammer(port=server.port, path="/api/v1/orders/bulk/", bodies=bulks,
                          headers=headers, clients=min(options["clients"], len(bulks)),
                          timeout=options["timeout"])  # fmt: skip
            cpu_bulk = server.cpu_seconds() - cpu_before - cpu_single
        self._log(f"single: {single.statuses} in {single.seconds:.2f}s; "
                  f"bulk: {bulk.statuses} in {bulk.seconds:.2f}s (log: {server.logdir})")  # fmt: skip
        stored = self._stored_orders()
        if single.statuses.get(201, 0) != n or bulk.statuses.get(200, 0) != len(bulks):
            raise CommandError(
                f"not every call succeeded: single {single.statuses}, bulk {bulk.statuses}; "
                f"see {server.logdir}"
            )
        import_rows = options["import_rows"] if options["import_rows"] is not None else n
        imported = self._import(import_rows)
        return {
            "orders_per_s_single": round(n / single.seconds, 1),
            "items_per_s_bulk": round(n / bulk.seconds, 1),
            "p50_ms_single": single.percentile_ms(50),
            "p99_ms_single": single.percentile_ms(99),
            "p99_ms_bulk_1000": bulk.percentile_ms(99),
            # The gunicorn workers' own CPU per order, whatever else the machine runs (the
            # database's and the clients' are not counted).
            "server_cpu_ms_per_order_single": round(cpu_single / n * 1000, 2),
            "server_cpu_ms_per_item_bulk": round(cpu_bulk / n * 1000, 2),
            # The load generator's own CPU (lean keep-alive clients in threads of this process),
            # taken from the same 2 cores.
            "client_cpu_ms_per_order_single": round(single.client_cpu_seconds / n * 1000, 2),
            "queries_per_order": queries,
            "queries_constant_in_lines": queries["1_line"] == queries["10_lines"],
            **imported,
            "orders_stored": stored,
            "clients": options["clients"],
            "gunicorn": {
                "workers": options["workers"],
                "worker_class": options["worker_class"],
                "threads": options["threads"] if options["worker_class"] == "gthread" else 1,
            },
            "cpus": os.cpu_count(),
        }

    # ------------------------------------------------------------------ steps

    def _setup(self, customers: int) -> tuple[str, list[str]]:
        """The storefront's API client with a key, and its customers (through the customers
        upsert, as the storefront's own POST /customers/ would make them)."""
        from apps.bench.storefront import person
        from apps.integration.ingest.customers import customers_upsert
        from apps.integration.ingest.types import AddressIn, CustomerIn
        from apps.integration.models import ApiClient, Scope
        from apps.integration.services import api_key_issue

        client = ApiClient.objects.create(
            name=f"bench-storefront-{self.run_id}",
            system=ApiClient.System.STOREFRONT,
            scopes=[Scope.CUSTOMERS_WRITE, Scope.ORDERS_WRITE],
            rate_limit="10000000/m",  # the benchmark measures the API, not its rate limit
        )
        key = api_key_issue(client=client)
        ids = [f"C{self.run_id}-{i}" for i in range(customers)]
        started = time.monotonic()
        for start in range(0, customers, BULK_SIZE):
            items = []
            for i in range(start, min(customers, start + BULK_SIZE)):
                who = person(i, self.run_id)
                items.append(
                    CustomerIn(
                        external_id=ids[i], kind="guest", acquired_via="purchase",
                        family_name=who["family_name"], given_name=who["given_name"],
                        family_name_kana=who["family_name_kana"],
                        given_name_kana=who["given_name_kana"], email=who["email"],
                        phone=who["phone"],
                        addresses=(
                            AddressIn(
                                recipient_name=f"{who['family_name']} {who['given_name']}",
                                postal_code=who["postal_code"], prefecture=who["prefecture"],
                                city=who["city"], line1=who["line1"], phone=who["phone"],
                            ),
                        ),
                    )
                )  # fmt: skip
            results = customers_upsert(client=client, items=items)
            failed = [r for r in results if r.status != "created"]
            if failed:
                raise CommandError(f"customers not created: {failed[0].errors}")
        self._log(f"{customers} customers in {time.monotonic() - started:.1f}s")
        return key, ids

    def _queries_of_one_order(self, key: str, customer_external_id: str, *, lines: int) -> int:
        """The SQL statements of one POST /api/v1/orders/ (a new order), in this process."""
        from django.db import connection as conn
        from django.test import Client, override_settings
        from django.test.utils import CaptureQueriesContext

        from apps.bench.storefront import encoded, order_json

        body = order_json(
            lines, run=self.run_id, customer_external_id=customer_external_id, lines=lines,
            prefix="Q",
        )  # fmt: skip
        http = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            # Warm: the key's last use is written at most once a minute, not in the count.
            http.get("/api/v1/orders/warm-up/")
            with CaptureQueriesContext(conn) as captured:
                response = http.post(
                    "/api/v1/orders/", encoded(body), content_type="application/json"
                )
        if response.status_code != 201:
            raise CommandError(f"the probe order failed: {response.status_code}")
        return len(captured)

    def _stored_orders(self) -> int:
        from apps.orders.models import Order

        return Order.objects.count()

    def _import(self, rows: int) -> dict:
        """``import_customers`` of an EC-CUBE CSV in a process of its own: rows/s and its peak
        resident memory (from the kernel's accounting of that child)."""
        from apps.bench.kit import database_url
        from apps.bench.storefront import write_eccube_csv
        from apps.integration.models import ApiClient

        if "import_customers" not in get_commands() or rows < 1:
            self._log("import_customers is not installed: no import figures")
            return {"import_rows": rows, "import_rows_per_s": None, "import_peak_rss_mb": None}
        ApiClient.objects.get_or_create(
            name=IMPORT_CLIENT, defaults={"system": ApiClient.System.ECCUBE}
        )
        path = self.workdir / "eccube_customers.csv"
        write_eccube_csv(path, rows, run=self.run_id)
        env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_DEBUG": "false"}
        command = [sys.executable, "manage.py", "import_customers", str(path),
                   "--format", "ecube", "--client", IMPORT_CLIENT]  # fmt: skip
        from django.conf import settings

        with open(self.workdir / "import.log", "wb") as log:
            started = time.monotonic()
            process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
            )
            _pid, status, usage = os.wait4(process.pid, 0)
            seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise CommandError(f"import_customers failed; see {self.workdir / 'import.log'}")
        return {
            "import_rows": rows,
            "import_rows_per_s": round(rows / seconds, 1),
            "import_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        }

    def _log(self, message: str) -> None:
        self.stderr.write(message)  # figures and ids only, never personal data
