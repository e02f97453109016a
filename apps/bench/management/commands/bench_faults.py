"""Inject faults into real processes while a campaign and privacy requests are under way, and
count, from the outside, what was lost, sent twice, left unknown or stuck.

    python manage.py bench_faults [--recipients 20000] [--requests 200] [--faults a,b]

Everything runs on servers of its own, started in a temporary directory and removed at the end:
a PostgreSQL cluster (the configured one is not the bench's to restart), a Redis server, an
aiosmtpd sink whose faults it switches, two Celery workers (solo pool) and Celery beat with the
database scheduler (the periodic sweeps run as in production). The configured database and
broker are not touched.

The population is built once (twice the recipients in customers: half eligible, the rest every
way of not being). Each fault then gets a campaign of its own, so figures are per fault:
  1. M new members each file a privacy request from My Page (erasure and stop of use, in turn),
     approved by a privacy officer: the same services the site and the admin call;
  2. "send now" on the fault's campaign, then "carry out" on every request: the fan-out, the
     chunks, the executions and the notices are background work;
  3. when the sink has taken the campaign's k-th message (a third of the recipients, at most
     250), the fault begins: smtp_refuse (the sink stops listening for --duration seconds),
     smtp_close (the connection is cut after every 10th message's data, before the answer, for
     --duration), smtp_4xx (451 at RCPT for 10% of the addresses, for --duration), redis_down
     (Redis stopped for --duration; it keeps nothing on disk, so queued tasks are gone),
     worker_kill (SIGKILL to the worker whose message is being answered, so mid-chunk; a
     supervisor starts it again at once), pg_restart (a fast restart of PostgreSQL);
  4. the bench waits until everything is done (the campaign finished with every delivery in a
     final state, every request completed, every notice sent) or --timeout seconds after the
     fault's end, restarting any process that died as a supervisor would.

Figures per fault: `lost` eligible recipients the sink never received (those whose row is
`unknown` are counted there instead), `duplicates` recipients received more than once,
`unknown` delivery rows, `requests_stuck` requests not completed, `notices_unsent` notices
written and not sent, `recovered_s` from the fault's end until everything was done (null: not
by the timeout). Beside them, to explain a fault that did not recover: `received` recipients,
`campaign_status`, `deliveries_open` (rows not in a final state), `fault_hit_mid_campaign`,
`service_errors` (service calls of the workload that raised) and `processes_restarted` (workers or
beat that died and were started again). The last line of output is one JSON object with the
figures per fault and in total.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.core.management import BaseCommand, CommandError, call_command
from django.utils.crypto import get_random_string

FAULTS = ("smtp_refuse", "smtp_close", "smtp_4xx", "redis_down", "worker_kill", "pg_restart")
FIGURES = ("lost", "duplicates", "unknown", "requests_stuck", "notices_unsent")


class Command(BaseCommand):
    help = "Fault bench: real PostgreSQL, Redis, workers, beat and SMTP sink, faults in turn."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=20_000, help="eligible, per fault")
        parser.add_argument("--requests", type=int, default=200, help="privacy requests per fault")
        parser.add_argument(
            "--faults", default=",".join(FAULTS), help=f"comma-separated, of {', '.join(FAULTS)}"
        )
        parser.add_argument(
            "--duration", type=float, default=20, help="seconds a lasting fault lasts"
        )
        parser.add_argument(
            "--timeout", type=float, default=300, help="seconds to wait after a fault's end"
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a setting for the workers and beat (environment), e.g. MARKETING_CHUNK_SIZE=500",
        )

    def handle(self, *args, **options):
        import logging

        from apps.bench.faults import use_services
        from apps.bench.servers import Postgres, Redis

        # The services this process calls log a line per request step: ids only, but thousands.
        logging.getLogger("apps").setLevel(logging.WARNING)

        faults = [name.strip() for name in options["faults"].split(",") if name.strip()]
        unknown = sorted(set(faults) - set(FAULTS))
        if unknown or not faults:
            raise CommandError(f"--faults: choose from {', '.join(FAULTS)} (got {unknown})")
        if options["recipients"] < 1 or options["requests"] < 0 or options["workers"] < 1:
            raise CommandError("--recipients and --workers must be at least 1, --requests >= 0")
        extra_env = {}
        for item in options["set"]:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--set takes NAME=VALUE (got {item!r})")
            extra_env[name] = value
        root = Path(tempfile.mkdtemp(prefix="bench-faults-"))
        os.chmod(root, 0o755)  # noqa: S103 (the postgres user must reach its directory)
        # Servers of its own: the configured ones are not the bench's to restart or stop.
        postgres = Postgres(root, database="bench_faults", max_connections=100)
        redis = Redis(root)
        if not (postgres.available and redis.available):
            shutil.rmtree(root, ignore_errors=True)
            raise CommandError("bench_faults needs initdb/pg_ctl and redis-server on this machine")
        try:
            database_url = postgres.start()
            broker_url = redis.start()
            self._log(f"own PostgreSQL on :{postgres.port}, Redis on :{redis.port}")
            with use_services(database_url=database_url, broker_url=broker_url):
                result = self._run(faults, options, root, postgres, redis, extra_env)
        finally:
            redis.stop()
            postgres.stop()
            shutil.rmtree(root, ignore_errors=True)
        self.stdout.write(json.dumps(result))

    # ------------------------------------------------------------------ the run

    def _run(self, faults, options, root, postgres, redis, extra_env) -> dict:
        from apps.bench.faults import Beat, FaultSink
        from apps.bench.kit import Workers
        from apps.bench.population import build_population

        call_command("migrate", verbosity=0, interactive=False)
        self.run_id = get_random_string(6, "abcdefghijkmnpqrstuvwxyz23456789")
        self.officer = self._officer()
        started = time.monotonic()
        population = build_population(n=2 * options["recipients"], run=self.run_id)
        self.eligible = population.eligible_addresses
        self.magazine = population.campaign.magazine
        self.template = population.campaign
        self._log(f"{len(self.eligible)} eligible recipients in {time.monotonic() - started:.1f}s")
        env = {
            "PRIVACY_PRIVATE_ROOT": str(root / "private"),
            "MEDIA_ROOT": str(root / "media"),
            **extra_env,
        }
        per_fault = {}
        with FaultSink() as sink:
            workers = Workers(count=options["workers"], sink_port=sink.port, extra_env=env)
            with workers, Beat(env=workers.env, logdir=workers.logdir) as beat:
                self._log(f"workers and beat started (logs: {workers.logdir})")
                for index, name in enumerate(faults):
                    figures = self._fault(
                        name, index, options, sink=sink, workers=workers, beat=beat,
                        postgres=postgres, redis=redis,
                    )  # fmt: skip
                    self._log(f"{name}: {json.dumps(figures)}")
                    per_fault[name] = figures
        return {
            "recipients": len(self.eligible),
            "requests": options["requests"],
            "workers": options["workers"],
            "duration_s": options["duration"],
            "timeout_s": options["timeout"],
            "faults": per_fault,
            "total": self._total(per_fault),
        }

    def _fault(self, name, index, options, *, sink, workers, beat, postgres, redis) -> dict:
        from apps.bench.faults import reconnect_on_error
        from apps.marketing import services as marketing
        from apps.marketing.models import Campaign

        request_ids, errors = self._file_requests(options["requests"], run=f"{self.run_id}{index}")
        campaign = Campaign.objects.create(
            magazine=self.magazine,
            subject=self.template.subject,
            body_text=self.template.body_text,
        )
        at = max(1, min(len(self.eligible) // 3, 250))
        sink.trigger_at(campaign.pk, at, hold=name == "worker_kill")
        try:
            marketing.campaign_send_now(campaign=campaign, by=self.officer)
        except Exception as exc:
            errors += 1  # counted, not raised: what the staff member would see as an error
            self._log(f"{name}: send now failed: {type(exc).__name__}")
        errors += self._carry_out(request_ids)
        hit = sink.triggered.wait(timeout=min(60, options["timeout"]))
        ended = self._inject(name, options, sink=sink, workers=workers, postgres=postgres,
                             redis=redis)  # fmt: skip
        restarts, done_at = 0, None
        deadline = ended + options["timeout"]
        while time.monotonic() < deadline:
            restarts += workers.revive() + beat.revive()
            if reconnect_on_error(lambda: self._done(campaign.pk, request_ids)):
                done_at = time.monotonic()
                break
            time.sleep(0.5)
        figures = reconnect_on_error(lambda: self._figures(campaign.pk, request_ids, sink))
        figures["recovered_s"] = None if done_at is None else round(max(0, done_at - ended), 1)
        figures.update(
            {
                "fault_hit_mid_campaign": hit,
                "service_errors": errors,
                "processes_restarted": restarts,
            }
        )
        return figures

    def _inject(self, name, options, *, sink, workers, postgres, redis) -> float:
        """Start the fault, let it last, end it; returns when it ended (monotonic)."""
        from apps.bench.faults import pid_holding

        duration = options["duration"]
        self._log(f"{name}: fault begins")
        if name == "smtp_refuse":
            sink.refuse()
            time.sleep(duration)
            sink.listen()
        elif name in ("smtp_close", "smtp_4xx"):
            sink.mode = "close" if name == "smtp_close" else "tempfail"
            time.sleep(duration)
            sink.mode = "normal"
        elif name == "redis_down":
            redis.stop()
            time.sleep(duration)
            redis.start()
        elif name == "worker_kill":
            pids = [process.pid for process in workers.processes]
            holder = sink.held_peer_port and pid_holding(sink.held_peer_port, pids)
            workers.kill(pids.index(holder) if holder in pids else 0)
            sink.release()
            workers.revive()  # the supervisor's restart
        elif name == "pg_restart":
            postgres.restart()
        self._log(f"{name}: fault ends")
        return time.monotonic()

    # ------------------------------------------------------------------ workload

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

    def _file_requests(self, count: int, *, run: str) -> tuple[list[int], int]:
        """`count` new members each file a request from My Page, approved by the officer.
        Returns the requests' ids and how many service calls failed."""
        from apps.bench.people import insert_people, plan_people
        from apps.customers.models import Customer
        from apps.privacy_requests import services
        from apps.privacy_requests.models import Kind, PrivacyRequest

        if not count:
            return [], 0
        built = insert_people(plan_people(count, run=run), run=run, orders_each=1)
        errors = 0
        customers = Customer.objects.filter(pk__in=built.customer_ids).select_related("user")
        for i, customer in enumerate(customers.order_by("pk")):
            try:
                request = services.privacy_request_create_from_mypage(
                    customer=customer,
                    kind=Kind.ERASURE if i % 2 == 0 else Kind.STOP_OF_USE,
                    language="ja",
                )
                services.privacy_request_approve(privacy_request=request, by=self.officer)
            except Exception:
                errors += 1
        ids = PrivacyRequest.objects.filter(customer_id__in=built.customer_ids)
        return sorted(ids.values_list("pk", flat=True)), errors

    def _carry_out(self, request_ids: list[int]) -> int:
        from apps.privacy_requests import services
        from apps.privacy_requests.models import PrivacyRequest

        errors = 0
        for request in PrivacyRequest.objects.filter(pk__in=request_ids).order_by("pk"):
            try:
                services.privacy_request_carry_out(privacy_request=request, by=self.officer)
            except Exception:
                errors += 1
        return errors

    # ------------------------------------------------------------------ judging

    def _done(self, campaign_id: int, request_ids: list[int]) -> bool:
        from apps.bench.faults import CAMPAIGN_FINISHED, DELIVERY_FINAL, REQUEST_DONE
        from apps.marketing.models import Campaign, Delivery
        from apps.privacy_requests.models import Notice, PrivacyRequest

        return (
            Campaign.objects.filter(pk=campaign_id, status__in=CAMPAIGN_FINISHED).exists()
            and not Delivery.objects.filter(campaign_id=campaign_id)
            .exclude(status__in=DELIVERY_FINAL)
            .exists()
            and not PrivacyRequest.objects.filter(pk__in=request_ids)
            .exclude(status=REQUEST_DONE)
            .exists()
            and not Notice.objects.filter(privacy_request_id__in=request_ids, sent_at=None).exists()
        )

    def _figures(self, campaign_id: int, request_ids: list[int], sink) -> dict:
        from apps.bench.faults import DELIVERY_FINAL, DELIVERY_UNKNOWN, REQUEST_DONE
        from apps.marketing.models import Campaign, Delivery
        from apps.privacy_requests.models import Notice, PrivacyRequest

        with sink.lock:
            received = {
                rcpt: count
                for (campaign, rcpt), count in sink.by_recipient.items()
                if campaign == campaign_id
            }
        unknown = Delivery.objects.filter(campaign_id=campaign_id, status=DELIVERY_UNKNOWN)
        unknown_addresses = {a.lower() for a in unknown.values_list("customer__email", flat=True)}
        return {
            "lost": sum(
                1
                for address in self.eligible
                if address.lower() not in received and address.lower() not in unknown_addresses
            ),
            "duplicates": sum(1 for count in received.values() if count > 1),
            "unknown": unknown.count(),
            "requests_stuck": PrivacyRequest.objects.filter(pk__in=request_ids)
            .exclude(status=REQUEST_DONE)
            .count(),
            "notices_unsent": Notice.objects.filter(
                privacy_request_id__in=request_ids, sent_at=None
            ).count(),
            "eligible": len(self.eligible),
            "received": len(received),
            # Why a fault did not recover: the campaign's state and its rows not yet final.
            "campaign_status": Campaign.objects.get(pk=campaign_id).status,
            "deliveries_open": Delivery.objects.filter(campaign_id=campaign_id)
            .exclude(status__in=DELIVERY_FINAL)
            .count(),
        }

    @staticmethod
    def _total(per_fault: dict) -> dict:
        total = {name: sum(figures[name] for figures in per_fault.values()) for name in FIGURES}
        recovered = [figures["recovered_s"] for figures in per_fault.values()]
        total["recovered_s"] = None if None in recovered else max(recovered, default=0)
        return total

    def _log(self, message: str) -> None:
        self.stderr.write(f"bench_faults: {message}")  # figures and ids only, never personal data
