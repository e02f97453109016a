"""The shop of `bench_scale`: N customers written with PostgreSQL COPY (apps.bench.copying).

Who is who is decided by the customer's number i alone (no random state), so the expected
counts are known without reading the database back:

- 60 % members (a login with one password hash computed once and shared, e-mail confirmed but
  for 2 %), 40 % guests; 10 % of the guests were last active six years ago (created and
  ordering then, no inquiry): the inactive-guest retention rule's work;
- one default address each, 5 orders each (1 or 2 lines, a card payment);
- 10 consent events each over four opt-in purposes, and their ConsentState (the last event per
  purpose: the ledger and the state agree);
- 80 % subscribed to the benchmark's magazine; 2.5 % of those on the suppression list;
  0.5 % restricted (resale), 1 % with one privacy request, in a spread of states and kinds;
- one more member, "the big person", with 10,000 orders (erased and disclosed by the
  benchmark), subscribed to nothing and with no request.

Then ANALYZE, as autovacuum would have done on a live shop."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from apps.bench.copying import copy_rows, next_id, sync_sequence
from apps.bench.people import FAMILY, GIVEN, PLACES, PRODUCTS

ORDERS_EACH = 5
EVENTS_EACH = 10
PURPOSE_CODES = ("newsletter", "new_products", "remarketing", "analytics")
# Open and closed, as a live shop's request list holds them.
REQUEST_STATES = ("received", "identity", "review", "approved", "rejected", "completed",
                  "completed", "withdrawn")  # fmt: skip
REQUEST_KINDS = ("erasure", "stop_of_use", "correction", "disclosure")
BIG_PERSON = ("勘解由小路", "麗於奈", "カデノコウジ", "レオナ")
PASSWORD = "bench-scale-password"  # noqa: S105 (made-up members of a throwaway database)


def is_member(i: int) -> bool:
    return i % 5 < 3


def is_inactive_guest(i: int) -> bool:
    return not is_member(i) and (i // 5) % 10 == 0


def is_restricted(i: int) -> bool:
    return i % 200 == 7


def is_subscribed(i: int) -> bool:
    return i % 10 < 8


def is_suppressed(i: int) -> bool:
    return i % 40 == 3


def is_confirmed(i: int) -> bool:
    return not is_member(i) or i % 50 != 1


def newsletter_granted(i: int) -> bool:
    return i % 10 < 7 or i % 10 == 9


def has_request(i: int) -> bool:
    return i % 100 == 11


def is_eligible(i: int) -> bool:
    """What apps.marketing.selectors.eligible_subscriptions should find."""
    return (
        is_subscribed(i)
        and newsletter_granted(i)
        and not is_restricted(i)
        and not is_suppressed(i)
        and is_confirmed(i)
    )


@dataclass
class Scale:
    n: int
    run: str
    big_customer_id: int = 0
    magazine_id: int = 0
    member_user_ids: list[int] = field(default_factory=list)
    expected: dict = field(default_factory=dict)
    seconds_by_table: dict = field(default_factory=dict)
    seconds: float = 0.0


def email_of(i: int, run: str) -> str:
    return f"c{i}.{run}@scale.example.jp"


def build_scale(*, n: int, run: str, big_orders: int = 10_000, log=lambda _m: None) -> Scale:
    from apps.consents.models import ConsentEvent, ConsentState, Purpose, Wording
    from apps.consents.selectors import policy_current
    from apps.customers.models import Address, Customer, User
    from apps.marketing.models import MailMagazine, Subscription, SuppressedAddress
    from apps.marketing.selectors import address_hash
    from apps.orders.models import Order, OrderLine, Payment, Product
    from apps.privacy_requests.models import PrivacyRequest

    started = time.monotonic()
    scale = Scale(n=n, run=run)
    now = timezone.now()
    long_ago = now - datetime.timedelta(days=6 * 366)
    big = n  # the big person's number: one past the others
    everyone = range(n + 1)
    password = make_password(PASSWORD)  # hashed once: the members share it
    purposes = dict(Purpose.objects.filter(code__in=PURPOSE_CODES).values_list("code", "pk"))
    purpose_ids = [purposes[code] for code in PURPOSE_CODES]
    policy = policy_current()
    wording, _ = Wording.objects.get_or_create(
        sha256=Wording.hash_of("bench: consent"), defaults={"text": "bench: consent"}
    )
    magazine = MailMagazine.objects.create(
        name=f"ベンチマーク通信 {run}", slug=f"scale-{run}", purpose_id=purposes["newsletter"],
        from_name="デモショップ", from_email="news@shop.example",
    )  # fmt: skip
    scale.magazine_id = magazine.pk
    products = [
        Product.objects.create(sku=f"SCALE-{run}-{k}", name=name, price=price)
        for k, (name, price) in enumerate(PRODUCTS)
    ]

    def member(i):
        return i == big or is_member(i)

    def created(i):
        return long_ago if is_inactive_guest(i) else now - datetime.timedelta(seconds=i)

    user_base, customer_base = next_id(User), next_id(Customer)
    order_base, event_base = next_id(Order), next_id(ConsentEvent)

    def timed(model, fields, rows):
        t = time.monotonic()
        count = copy_rows(model, fields, rows)
        scale.seconds_by_table[model._meta.db_table] = round(time.monotonic() - t, 2)
        log(f"{model._meta.db_table}: {count} rows in {time.monotonic() - t:.1f}s")
        return count

    def who(i):
        if i == big:  # values no one else has: the scan after the erasure looks for them
            return BIG_PERSON
        family, family_kana = FAMILY[i % len(FAMILY)]
        given, given_kana = GIVEN[(i // len(FAMILY)) % len(GIVEN)]
        return family, given, family_kana, given_kana

    def phone(i):
        return "070-9876-5432" if i == big else f"090-{i // 10000 % 10000:04d}-{i % 10000:04d}"

    def postal(i):
        return "999-0016" if i == big else f"{100 + i % 900:03d}-{i % 10000:04d}"

    def street(i):
        return (
            "勘解由小路16-16"
            if i == big
            else f"{PLACES[i % len(PLACES)][2]}{i % 9 + 1}-{i % 20 + 1}"
        )

    def orders_of(i):
        if i == big:
            return [(order_base + ORDERS_EACH * (n + 1) + j, j) for j in range(big_orders)]
        return [(order_base + ORDERS_EACH * i + k, k) for k in range(ORDERS_EACH)]

    def placed(i, k):
        if is_inactive_guest(i):
            return long_ago + datetime.timedelta(days=k)
        return now - datetime.timedelta(days=1 + (i + k * 53) % 700, minutes=k)

    with transaction.atomic():
        timed(User, ["id", "email", "password", "date_joined", "email_confirmed_at"], (
            (user_base + i, email_of(i, run), password, created(i),
             created(i) if i == big or is_confirmed(i) else None)
            for i in everyone if member(i)
        ))  # fmt: skip
        timed(Customer, ["id", "user_id", "family_name", "given_name", "family_name_kana",
                         "given_name_kana", "phone", "email", "acquired_via", "status",
                         "restriction_reason", "restricted_at", "created_at"], (
            (customer_base + i, user_base + i if member(i) else None, *who(i),
             phone(i), email_of(i, run),
             "signup" if member(i) else "purchase",
             "restricted" if is_restricted(i) and i != big else "active",
             "bench: resale" if is_restricted(i) and i != big else "",
             now if is_restricted(i) and i != big else None, created(i))
            for i in everyone
        ))  # fmt: skip
        timed(Address, ["customer_id", "recipient_name", "postal_code", "prefecture", "city",
                        "line1", "phone", "is_default"], (
            (customer_base + i, " ".join(who(i)[:2]), postal(i), PLACES[i % len(PLACES)][0],
             PLACES[i % len(PLACES)][1], street(i), phone(i), True)
            for i in everyone
        ))  # fmt: skip

        def order_rows():
            for i in everyone:
                name = " ".join(who(i)[:2])
                for order_id, k in orders_of(i):
                    product = PRODUCTS[k % len(PRODUCTS)]
                    subtotal = product[1] * (1 + k % 2) + (PRODUCTS[0][1] if k % 2 else 0)
                    yield (order_id, f"S{run[:4]}{order_id}", customer_base + i, "delivered",
                           subtotal, 0, subtotal, name, postal(i),
                           f"{PLACES[i % len(PLACES)][0]}{PLACES[i % len(PLACES)][1]}{street(i)}",
                           phone(i), placed(i, k))  # fmt: skip

        timed(Order, ["id", "number", "customer_id", "status", "subtotal", "shipping_fee", "total",
                      "ship_name", "ship_postal_code", "ship_address", "ship_phone", "placed_at"],
              order_rows())  # fmt: skip

        def line_rows():
            for i in everyone:
                for order_id, k in orders_of(i):
                    p = products[k % len(products)]
                    yield (order_id, p.pk, p.sku, p.name, p.price, 1 + k % 2)
                    if k % 2:
                        yield (order_id, products[0].pk, products[0].sku, products[0].name,
                               products[0].price, 1)  # fmt: skip

        timed(OrderLine, ["order_id", "product_id", "sku", "product_name", "unit_price",
                          "quantity"], line_rows())  # fmt: skip

        def payment_rows():
            for i in everyone:
                for order_id, k in orders_of(i):
                    amount = PRODUCTS[k % len(PRODUCTS)][1] * (1 + k % 2) + (
                        PRODUCTS[0][1] if k % 2 else 0
                    )
                    yield (order_id, "card", "VISA", "4242", amount, "captured", placed(i, k))

        timed(Payment, ["order_id", "method", "card_brand", "card_last4", "amount", "status",
                        "created_at"], payment_rows())  # fmt: skip

        def action(i, k):
            if k < 4:
                return "grant"
            if k == 8:  # the newsletter's last word
                return "grant" if newsletter_granted(i) and i != big else "withdraw"
            return "withdraw" if (i + k) % 3 == 0 else "grant"

        def event_rows():
            for i in everyone:
                base = created(i)
                for k in range(EVENTS_EACH):
                    yield (event_base + EVENTS_EACH * i + k, customer_base + i,
                           purpose_ids[k % 4], action(i, k), policy.pk if policy else None,
                           "signup" if k < 4 else "mypage", base + datetime.timedelta(hours=k),
                           wording.pk)  # fmt: skip

        timed(ConsentEvent, ["id", "customer_id", "purpose_id", "action", "policy_version_id",
                             "source", "occurred_at", "wording_id"], event_rows())  # fmt: skip

        def state_rows():
            for i in everyone:
                last = {}
                for k in range(EVENTS_EACH):
                    last[k % 4] = k
                for p, k in last.items():
                    status = "granted" if action(i, k) == "grant" else "withdrawn"
                    yield (customer_base + i, purpose_ids[p], status,
                           event_base + EVENTS_EACH * i + k)  # fmt: skip

        timed(ConsentState, ["customer_id", "purpose_id", "status", "last_event_id"],
              state_rows())  # fmt: skip
        hashes = {i: address_hash(email_of(i, run)) for i in range(n) if is_subscribed(i)}
        timed(Subscription, ["magazine_id", "customer_id", "status", "email_hash", "confirmed_at"],
              ((magazine.pk, customer_base + i, "active", h, created(i))
               for i, h in hashes.items()))  # fmt: skip
        timed(SuppressedAddress, ["address_hash", "reason"],
              ((h, "bounced") for i, h in hashes.items() if is_suppressed(i)))  # fmt: skip
        timed(PrivacyRequest, _REQUEST_FIELDS,
              (_request_row(i, s, customer_base + i, " ".join(who(i)[:2]), email_of(i, run), now)
               for s, i in enumerate(i for i in range(n) if has_request(i))))  # fmt: skip
        for model in (User, Customer, Order, ConsentEvent):
            sync_sequence(model)
        t = time.monotonic()
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL checks every copied
    # row's references at COMMIT, which is where much of the load's time goes.
    scale.seconds_by_table["commit"] = round(time.monotonic() - t, 2)
    log(f"commit (deferred foreign-key checks): {scale.seconds_by_table['commit']}s")
    t = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    scale.seconds_by_table["analyze"] = round(time.monotonic() - t, 2)
    scale.big_customer_id = customer_base + big
    # Members who can use My Page as anyone would: active, with a confirmed login.
    scale.member_user_ids = [
        user_base + i for i in range(n) if is_member(i) and is_confirmed(i) and not is_restricted(i)
    ]
    customers = range(n)
    scale.expected = {
        "customers": n + 1,
        "members": sum(1 for i in customers if is_member(i)) + 1,
        "orders": ORDERS_EACH * n + big_orders,
        "consent_events": EVENTS_EACH * (n + 1),
        "eligible": sum(1 for i in customers if is_eligible(i)),
        "inactive_guests": sum(
            1 for i in customers if is_inactive_guest(i) and not is_restricted(i)
        ),
        "privacy_requests": sum(1 for i in customers if has_request(i)),
    }
    scale.seconds = time.monotonic() - started
    return scale


_REQUEST_FIELDS = [
    "reference", "kind", "law", "channel", "status", "customer_id", "requester_name",
    "requester_email", "requester_postal_address", "language", "received_at", "due_on",
    "identity_method", "identity_verified_at", "outcome", "decision_reasons", "decided_at",
    "disclosure_form", "closed_at",
]  # fmt: skip


def _request_row(i, seq, customer_id, name, email, now):
    status = REQUEST_STATES[seq % len(REQUEST_STATES)]
    kind = "disclosure" if status == "completed" else REQUEST_KINDS[seq % len(REQUEST_KINDS)]
    received = now - datetime.timedelta(days=seq % 30, hours=seq % 24)
    verified = status not in ("received", "identity")
    closed = status in ("rejected", "completed", "withdrawn")
    decided = status in ("approved", "rejected", "completed")
    return (
        f"PR-S{seq:08d}", kind, "appi", "mypage", status, customer_id, name, email,
        "〒100-0001 東京都千代田区千代田1-1" if kind == "disclosure" else "", "ja", received,
        (received + datetime.timedelta(days=14)).date(), "mypage" if verified else "",
        received if verified else None,
        {"rejected": "rejected", "completed": "full"}.get(status, ""),
        "bench: not a request the law covers" if status == "rejected" else "",
        received if decided else None, "paper" if kind == "disclosure" else "",
        received + datetime.timedelta(days=3) if closed else None,
    )  # fmt: skip


def own_rows_left(customer_id: int) -> int:
    """Personal values left in the erased person's own rows: profile, login, addresses, the
    shipping fields of their orders (kept for the tax hold without them) and the contact
    details of their requests."""
    from django.db.models import Q

    from apps.customers.models import Address, Customer
    from apps.orders.models import Order
    from apps.privacy_requests.models import PrivacyRequest

    customer = Customer.objects.get(pk=customer_id)
    left = sum(
        1
        for name in (
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "phone",
            "email",
        )
        if getattr(customer, name)
    )
    left += int(customer.user_id is not None)
    left += Address.objects.filter(customer_id=customer_id).count()
    left += (
        Order.objects.filter(customer_id=customer_id)
        .filter(
            ~Q(ship_name="") | ~Q(ship_postal_code="") | ~Q(ship_address="") | ~Q(ship_phone="")
        )
        .count()
    )
    # The requests' contact details go once their last notice is sent (sent by the benchmark).
    left += (
        PrivacyRequest.objects.filter(customer_id=customer_id)
        .filter(~Q(requester_name="") | ~Q(requester_email="") | ~Q(requester_postal_address=""))
        .count()
    )
    return left
