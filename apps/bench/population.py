"""Generated population for `bench_campaign`: N customers with a realistic mix of consent
states, written in bulk (the ledger rows too: bulk inserts, not the per-event service)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.consents.models import ConsentEvent, ConsentState, Purpose, Source, Wording
from apps.consents.selectors import policy_current
from apps.customers.models import Customer
from apps.marketing.models import Campaign, MailMagazine, Subscription, SuppressedAddress
from apps.marketing.selectors import address_hash

BATCH = 5000
BODY = (
    "{name} 様\n\nいつもご利用いただきありがとうございます。\n"
    "今週は秋の新茶と有田焼の湯呑みをご紹介します。"
    "静岡・牧之原の茶園で摘まれた新茶は、すっきりとした甘みと香りが特長です。\n\n"
    "・静岡 牧之原 深蒸し茶 100g 1,200円\n・有田焼 湯呑み 3,800円\n・今治タオル 1,800円\n\n"
    "5,000円以上のご注文で送料無料。お届けは全国どこでも2〜4日です。\n"
) * 2


@dataclass
class Population:
    n: int
    campaign: Campaign
    naive_campaign: Campaign
    eligible_addresses: list[str]


def _kind(i: int) -> str:
    """Half consented and subscribed; the rest spread over every way not to be eligible."""
    bucket = i % 20
    if bucket < 10:
        return "eligible"
    return ["withdrawn", "withdrawn", "never", "never", "suppressed", "suppressed",
            "restricted", "restricted", "erased", "erased"][bucket - 10]  # fmt: skip


def build_population(*, n: int, run: str) -> Population:
    purpose = Purpose.objects.get(code="newsletter")
    policy = policy_current()
    wording, _ = Wording.objects.get_or_create(
        sha256=Wording.hash_of("bench: newsletter consent"),
        defaults={"text": "bench: newsletter consent"},
    )
    magazine = MailMagazine.objects.create(
        name=f"ベンチマーク通信 {run}",
        slug=f"bench-{run}",
        purpose=purpose,
        from_name="デモショップ",
        from_email="news@shop.example",
    )
    eligible: list[str] = []
    now = timezone.now()
    for start in range(0, n, BATCH):
        with transaction.atomic():
            kinds = [_kind(i) for i in range(start, min(n, start + BATCH))]
            customers = Customer.objects.bulk_create(
                [
                    Customer(
                        family_name="" if kind == "erased" else "佐藤",
                        given_name="" if kind == "erased" else f"花子{start + j}",
                        email="" if kind == "erased" else f"b{run}-{start + j}@example.com",
                        acquired_via=Customer.AcquiredVia.IMPORT,
                        status={"restricted": "restricted", "erased": "erased"}.get(kind, "active"),
                        restriction_reason="bench: resale" if kind == "restricted" else "",
                    )
                    for j, kind in enumerate(kinds)
                ]
            )
            subscribed = [(c, k) for c, k in zip(customers, kinds, strict=True) if k != "never"]
            grants = ConsentEvent.objects.bulk_create(
                [
                    ConsentEvent(customer=c, purpose=purpose, action="grant", policy_version=policy,
                                 source=Source.IMPORT, occurred_at=now, wording=wording)
                    for c, _k in subscribed
                ]
            )  # fmt: skip
            last = {event.customer_id: event for event in grants}
            withdrawals = ConsentEvent.objects.bulk_create(
                [
                    ConsentEvent(customer=c, purpose=purpose, action="withdraw",
                                 policy_version=policy, source=Source.MYPAGE, occurred_at=now,
                                 wording=wording)
                    for c, k in subscribed if k == "withdrawn"
                ]
            )  # fmt: skip
            last.update({event.customer_id: event for event in withdrawals})
            ConsentState.objects.bulk_create(
                [
                    ConsentState(
                        customer=c,
                        purpose=purpose,
                        status="withdrawn" if k == "withdrawn" else "granted",
                        last_event=last[c.pk],
                    )
                    for c, k in subscribed
                ]
            )
            hashes = {c.pk: address_hash(c.email or f"erased-{c.pk}") for c, _k in subscribed}
            Subscription.objects.bulk_create(
                [
                    Subscription(magazine=magazine, customer=c, status="active",
                                 email_hash=hashes[c.pk], confirmed_at=now)
                    for c, _k in subscribed
                ]
            )  # fmt: skip
            SuppressedAddress.objects.bulk_create(
                [
                    SuppressedAddress(address_hash=hashes[c.pk], reason="bounced")
                    for c, k in subscribed
                    if k == "suppressed"
                ],
                ignore_conflicts=True,
            )
            eligible += [c.email for c, k in subscribed if k == "eligible"]
    # A live shop's tables have planner statistics (autovacuum); freshly bulk-loaded ones not yet.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    campaign = Campaign.objects.create(
        magazine=magazine, subject="【デモショップ】秋の新茶のご案内", body_text=BODY
    )
    naive = Campaign.objects.create(
        magazine=magazine, subject="【デモショップ】秋の新茶のご案内 (naive)", body_text=BODY
    )
    return Population(n=n, campaign=campaign, naive_campaign=naive, eligible_addresses=eligible)
