"""Send one mail-magazine campaign to N generated customers through real Celery workers and a
local SMTP sink, and print what it took beside the reference points measured in the same run:
raw smtplib loops over as many parallel connections as the pipeline has workers, one process
each (the limit), and a naive send_mail-per-recipient loop.

    python scripts/with_services.py -- python manage.py bench_campaign --recipients 10000

It runs in a database and on a broker queue of its own (apps.bench.isolation), created for the
run and removed afterwards: the configured database and broker are left as they were.

The last line printed is one JSON object."""

from __future__ import annotations

import json
import smtplib
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from apps.bench.isolation import isolated
from apps.bench.kit import CountingSink, Workers


class Command(BaseCommand):
    help = "Benchmark the campaign pipeline (needs PostgreSQL and Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=10_000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--chunk-size", type=int, default=1000)
        parser.add_argument(
            "--fanout-slice",
            type=int,
            default=None,
            help="recipients per fan-out slice (default: MARKETING_FANOUT_SLICE)",
        )
        parser.add_argument(
            "--reference-sample",
            type=int,
            default=None,
            help="messages the raw-smtplib limit sends, half before the campaign and half after "
            "it (default: as many as the campaign sends); the naive loop sends a fifth, at most "
            "1,000",
        )

    def handle(self, *args, **options):
        from apps.bench.population import build_population

        n = options["recipients"]
        run = uuid.uuid4().hex[:8]
        with isolated(label="bench_campaign"):
            self.stderr.write(f"bench_campaign: building {n} customers (run {run})…")
            population = build_population(n=n, run=run)
            eligible = len(population.eligible_addresses)
            sample = min(options["reference_sample"] or eligible, eligible)
            with CountingSink() as sink:
                # The limit is measured on both sides of the campaign, with as many mails in all
                # as the campaign sends: the machine's other load and the sink's state then
                # weigh on both alike (one short sample before it swung the ratio by ±0.3).
                before = self._limit(sink, population, sample // 2, options["workers"])
                self.stderr.write(
                    f"bench_campaign: limit before {before[0] / before[1]:.0f} mails/s"
                )
                naive = self._naive(sink, population, max(200, min(sample // 5, 1000)))
                self.stderr.write(f"bench_campaign: naive {naive:.0f} mails/s")
                result = self._campaign(sink, population, options)
                after = self._limit(
                    sink, population, sample - sample // 2, options["workers"], offset=sample // 2
                )
                self.stderr.write(f"bench_campaign: limit after {after[0] / after[1]:.0f} mails/s")
        limit = (before[0] + after[0]) / (before[1] + after[1])
        result.update(
            {
                "limit_mails_per_s": round(limit, 1),
                "limit_sample": before[0] + after[0],
                "limit_before_mails_per_s": round(before[0] / before[1], 1),
                "limit_after_mails_per_s": round(after[0] / after[1], 1),
                "naive_mails_per_s": round(naive, 1),
                "ratio_to_limit": round(result["mails_per_s"] / limit, 3),
                "speedup_vs_naive": round(result["mails_per_s"] / naive, 2),
            }
        )
        self.stdout.write(json.dumps(result))

    # ------------------------------------------------------------------ the limit
    def _limit(
        self, sink, population, sample: int, workers: int, *, offset: int = 0
    ) -> tuple[int, float]:
        """Raw smtplib: one prebuilt message per recipient, over `workers` connections at once,
        one process each (as the pipeline's workers are), started together. Returns the mails
        sent and the seconds they took."""
        import multiprocessing

        from apps.marketing.mail import PreparedCampaign, Recipient

        prepared = PreparedCampaign(population.naive_campaign)
        addresses = population.eligible_addresses[offset : offset + max(sample, 1)]
        # The same bytes the pipeline sends this sink: 8-bit bodies where it offers 8BITMIME
        # (aiosmtpd does), not the larger base64 ones.
        with smtplib.SMTP("127.0.0.1", sink.port) as probe:
            probe.ehlo()
            eight_bit = probe.has_extn("8bitmime")
        raw, _ = prepared.render(
            Recipient(address=addresses[0], name="山田 花子", subscription_id=1, delivery_id=1),
            eight_bit=eight_bit,
        )
        sink.reset()
        connection.close()  # the children must not share this process's database connection
        context = multiprocessing.get_context("fork")
        start_together = context.Barrier(workers)
        times = context.Queue()
        processes = [
            context.Process(
                target=_raw_smtp_loop,
                args=(
                    sink.port,
                    prepared.from_address,
                    addresses[i::workers],
                    raw,
                    ["BODY=8BITMIME"] if eight_bit else [],
                    start_together,
                    times,
                ),
            )
            for i in range(workers)
        ]
        for process in processes:
            process.start()
        spans = [times.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
        return len(addresses), max(end for _, end in spans) - min(start for start, _ in spans)

    # ------------------------------------------------------------------ the baseline
    def _naive(self, sink, population, sample: int) -> float:
        """What one would write first: per recipient, a consent query, a Delivery save and a
        send_mail (a new SMTP connection and a full MIME build each time)."""
        from django.core.mail import send_mail
        from django.test.utils import override_settings

        from apps.consents.models import ConsentState
        from apps.marketing.models import Delivery, Subscription

        campaign = population.naive_campaign
        subscriptions = list(
            Subscription.objects.filter(magazine=campaign.magazine, status="active")
            .select_related("customer")
            .order_by("pk")[:sample]
        )
        sink.reset()
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            started = time.perf_counter()
            for subscription in subscriptions:
                customer = subscription.customer
                if not ConsentState.objects.filter(
                    customer=customer, purpose=campaign.magazine.purpose, status="granted"
                ).exists():
                    continue
                Delivery.objects.create(
                    campaign=campaign, customer=customer, subscription=subscription, status="sent"
                )
                send_mail(
                    campaign.subject,
                    campaign.body_text.replace("{name}", customer.family_name),
                    campaign.magazine.from_email,
                    [customer.email],
                    html_message=campaign.body_text,
                )
            elapsed = time.perf_counter() - started
        return len(subscriptions) / elapsed

    # ------------------------------------------------------------------ the pipeline
    def _campaign(self, sink, population, options) -> dict:
        from apps.marketing import services
        from apps.marketing.models import Campaign, Delivery

        campaign = population.campaign
        eligible = set(population.eligible_addresses)
        extra_env = {"MARKETING_CHUNK_SIZE": str(options["chunk_size"])}
        if options["fanout_slice"]:
            extra_env["MARKETING_FANOUT_SLICE"] = str(options["fanout_slice"])
        workers = Workers(
            count=options["workers"], sink_port=sink.port, extra_env=extra_env, count_queries=True
        )
        with workers:
            sink.reset()
            cpu_before = workers.cpu_seconds()
            started = time.perf_counter()
            services.campaign_send_now(campaign=campaign)
            # The sink runs on a thread of this process: while mails are still to come, this
            # thread only reads the sink's count (a database query each time would take the
            # GIL from the sink); the campaign's status is read once they all came, or every
            # second in case some never do.
            last_read = 0.0
            while True:
                time.sleep(0.02)
                now = time.perf_counter()
                if sink.by_campaign.get(campaign.pk, 0) < len(eligible) and now - last_read < 1:
                    continue
                last_read = now
                status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
                if status[0] != Campaign.Status.SENDING:
                    break
            seconds = time.perf_counter() - started
            cpu = workers.cpu_seconds() - cpu_before
            rss = workers.peak_rss_mb()
        queries = workers.queries()  # read once they stopped: every task has counted
        received = {
            rcpt: count
            for (campaign_id, rcpt), count in sink.by_recipient.items()
            if campaign_id == campaign.pk
        }
        delivered = sum(received.values())
        started_at, fanned_out_at = Campaign.objects.values_list("started_at", "fanned_out_at").get(
            pk=campaign.pk
        )
        connection.close()
        return {
            "recipients": population.n,
            "eligible": len(eligible),
            "delivered": delivered,
            "wrong_recipients": len(set(received) - eligible),
            "duplicates": sum(count - 1 for count in received.values() if count > 1),
            "missing": len(eligible - set(received)),
            "unknown": Delivery.objects.filter(campaign=campaign, status="unknown").count(),
            "seconds": round(seconds, 2),
            # From "send now" to the first mail: the fan-out's first slice.
            "first_mail_after_s": round(sink.first_at.get(campaign.pk, started) - started, 2),
            # From "send now" to the last slice of Delivery rows (sending overlaps it).
            "fanned_out_after_s": round((fanned_out_at - started_at).total_seconds(), 2),
            "mails_per_s": round(delivered / seconds, 1),
            # From the first mail to the last at the sink: the rate once the sending started.
            "sending_mails_per_s": round(
                delivered
                / max(sink.last_at.get(campaign.pk, 0) - sink.first_at.get(campaign.pk, 0), 1e-9),
                1,
            ),
            "worker_cpu_us_per_mail": round(cpu / max(delivered, 1) * 1e6, 1),
            "db_queries_per_1000": round(queries / max(delivered, 1) * 1000, 2),
            "worker_peak_rss_mb": rss,
            "workers": options["workers"],
            "chunk_size": options["chunk_size"],
            "fanout_slice": options["fanout_slice"] or settings.MARKETING_FANOUT_SLICE,
        }


def _raw_smtp_loop(port, from_address, addresses, raw, options, start_together, times) -> None:
    """One connection of the limit, in a process of its own."""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        start_together.wait()
        started = time.monotonic()
        for address in addresses:
            smtp.sendmail(from_address, [address], raw, options)
        times.put((started, time.monotonic()))
