"""Helpers for `manage.py bench_erasure`: realistic people in every app, written with bulk
inserts, a local SMTP sink, and real Celery worker subprocesses to measure.

Nothing here is used by the shop itself. The people are made up, on reserved domains
(example.jp) and documentation addresses (192.0.2.0/24).
"""

from __future__ import annotations

import datetime
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

FAMILY = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("中村", "ナカムラ"), ("小林", "コバヤシ"),
    ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("清水", "シミズ"), ("斎藤", "サイトウ"),
]  # fmt: skip
GIVEN = [
    ("翔太", "ショウタ"), ("陽菜", "ヒナ"), ("大輝", "ダイキ"), ("結衣", "ユイ"),
    ("蓮", "レン"), ("美咲", "ミサキ"), ("悠斗", "ユウト"), ("さくら", "サクラ"),
    ("健一", "ケンイチ"), ("由美子", "ユミコ"), ("拓海", "タクミ"), ("葵", "アオイ"),
]  # fmt: skip
PLACES = [
    ("東京都", "世田谷区", "桜新町"), ("大阪府", "大阪市北区", "梅田"), ("北海道", "札幌市中央区", "大通西"),
    ("愛知県", "名古屋市中区", "栄"), ("福岡県", "福岡市博多区", "博多駅前"), ("宮城県", "仙台市青葉区", "一番町"),
    ("京都府", "京都市左京区", "北白川"), ("神奈川県", "横浜市港北区", "日吉"),
]  # fmt: skip
PRODUCTS = [("有機緑茶 100g", 1200), ("ほうじ茶ティーバッグ", 800), ("急須 常滑焼", 5400)]
CONSENTED_PURPOSES = ("newsletter", "new_products")


@dataclass
class Built:
    customer_ids: list[int] = field(default_factory=list)
    orders: int = 0


def plan_people(count: int, *, run: str, seed: int = 5) -> list[dict]:
    """Who the made-up people are, decided before anything is written (so the scan can first
    check that none of their values is in the database already)."""
    rng = random.Random(f"{seed}-{run}")  # noqa: S311 (made-up people, not secrets)
    people = []
    for i in range(count):
        family, family_kana = FAMILY[rng.randrange(len(FAMILY))]
        given, given_kana = GIVEN[rng.randrange(len(GIVEN))]
        phone = f"090-{rng.randrange(10000):04d}-{i % 10000:04d}"
        addresses = []
        for k in range(2):
            prefecture, city, town = PLACES[rng.randrange(len(PLACES))]
            addresses.append(
                {
                    "recipient_name": f"{family} {given}",
                    "postal_code": f"{rng.randrange(100, 1000)}-{rng.randrange(10000):04d}",
                    "prefecture": prefecture,
                    "city": city,
                    "line1": f"{town}{1 + k}-{1 + i % 40}-{1 + i // 40}",
                    "line2": f"メゾン{town}{100 + i % 900}号室" if k == 0 else "",
                    "phone": phone,
                    "is_default": k == 0,
                }
            )
        people.append(
            {
                "email": f"bench-{run}-{i}@example.jp",
                "family_name": family,
                "given_name": given,
                "family_name_kana": family_kana,
                "given_name_kana": given_kana,
                "date_of_birth": datetime.date(1960 + rng.randrange(45), 1 + rng.randrange(12), 1),
                "phone": phone,
                "addresses": addresses,
            }
        )
    return people


def needles_of(people: list[dict]) -> dict[str, set[str]]:
    """What the scan looks for: name, kana, e-mail, phone, postal code and street."""
    needles: dict[str, set[str]] = {}

    def add(kind, *values):
        needles.setdefault(kind, set()).update(v for v in values if v)

    for p in people:
        add("name", p["family_name"], p["given_name"], f"{p['family_name']} {p['given_name']}")
        add("kana", p["family_name_kana"], p["given_name_kana"])
        add("email", p["email"])
        add("phone", p["phone"])
        for a in p["addresses"]:
            add("postal_code", a["postal_code"])
            add("street", a["line1"], a["line2"])
            add("phone", a["phone"])
    return needles


@transaction.atomic
def insert_people(
    people: list[dict], *, run: str, orders_each: int = 2, big_orders: int = 0, seed: int = 5
) -> Built:
    """Each person a member with two addresses, orders (lines, payment), an inquiry, two
    consents (with IP and user agent), a subscription and a delivered campaign mail; the first
    has `big_orders` orders instead, when asked. Bulk inserts throughout."""
    from apps.consents.models import (
        ConsentEvent,
        ConsentEventContext,
        ConsentState,
        Purpose,
        Source,
    )
    from apps.consents.selectors import policy_current
    from apps.consents.services import wording_for
    from apps.customers.models import Address, Customer, Inquiry, User
    from apps.marketing.models import Campaign, Delivery, MailMagazine, Subscription
    from apps.marketing.selectors import address_hash
    from apps.orders.models import Order, OrderLine, Payment, Product

    rng = random.Random(f"{seed}-{run}-orders")  # noqa: S311
    now = timezone.now()
    built = Built()
    products = [
        Product.objects.get_or_create(sku=f"BENCH-{k}", defaults={"name": name, "price": price})[0]
        for k, (name, price) in enumerate(PRODUCTS)
    ]
    purposes = {p.code: p for p in Purpose.objects.filter(code__in=CONSENTED_PURPOSES)}
    policy = policy_current()
    magazine, _ = MailMagazine.objects.get_or_create(
        slug="bench-weekly",
        defaults={
            "name": "週刊お茶だより",
            "purpose": purposes["newsletter"],
            "from_name": "Shop",
            "from_email": "news@shop.example.jp",
        },
    )
    campaign = Campaign.objects.create(
        magazine=magazine, subject="新茶のご案内", body_text="{name} 様", status="sent"
    )
    password = make_password("bench-only-password-1")  # one hash for all: hashing is not measured

    users = User.objects.bulk_create(
        User(email=p["email"], password=password, date_joined=now) for p in people
    )
    customers = Customer.objects.bulk_create(
        Customer(
            user=user,
            email=user.email,
            **{k: v for k, v in p.items() if k not in ("email", "addresses")},
        )
        for user, p in zip(users, people, strict=True)
    )
    built.customer_ids = [c.pk for c in customers]
    addresses = Address.objects.bulk_create(
        Address(customer=customer, **a)
        for customer, p in zip(customers, people, strict=True)
        for a in p["addresses"]
    )
    default = {a.customer_id: a for a in addresses if a.is_default}

    orders = []
    for i, customer in enumerate(customers):
        address = default[customer.pk]
        for k in range(big_orders if (i == 0 and big_orders) else orders_each):
            price = PRODUCTS[k % len(PRODUCTS)][1]
            orders.append(
                Order(
                    number=f"B{run}{i:06d}{k:04d}"[:20],
                    customer=customer,
                    subtotal=price * 2,
                    shipping_fee=0,
                    total=price * 2,
                    status="delivered",
                    ship_name=address.recipient_name,
                    ship_postal_code=address.postal_code,
                    ship_address=address.one_line,
                    ship_phone=address.phone,
                    placed_at=now - datetime.timedelta(days=rng.randrange(3 * 365), minutes=k),
                )
            )
    orders = Order.objects.bulk_create(orders, batch_size=2000)
    built.orders = len(orders)
    OrderLine.objects.bulk_create(
        (
            OrderLine(
                order=order,
                product=products[k % len(products)],
                product_name=products[k % len(products)].name,
                unit_price=order.subtotal // 2,
                quantity=1,
            )
            for order in orders
            for k in range(2)
        ),
        batch_size=2000,
    )
    Payment.objects.bulk_create(
        (
            Payment(
                order=order,
                method="card",
                card_brand="VISA",
                card_last4=f"{rng.randrange(10000):04d}",
                amount=order.total,
                status="captured",
            )
            for order in orders
        ),
        batch_size=2000,
    )
    Inquiry.objects.bulk_create(
        Inquiry(
            customer=customer,
            name=customer.full_name,
            email=customer.email,
            phone=customer.phone,
            topic="order",
            message=f"{default[customer.pk].line1} に届いた商品について",
        )
        for customer in customers
    )

    wordings = {code: wording_for(p.description) for code, p in purposes.items()}
    events = ConsentEvent.objects.bulk_create(
        ConsentEvent(
            customer=customer,
            purpose=purposes[code],
            action="grant",
            policy_version=policy,
            source=Source.SIGNUP,
            occurred_at=now,
            wording=wordings[code],
        )
        for customer in customers
        for code in CONSENTED_PURPOSES
    )
    ConsentEventContext.objects.bulk_create(
        ConsentEventContext(
            event=event,
            ip_address=f"192.0.2.{1 + n % 254}",
            user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
        )
        for n, event in enumerate(events)
    )
    ConsentState.objects.bulk_create(
        ConsentState(customer_id=e.customer_id, purpose=e.purpose, status="granted", last_event=e)
        for e in events
    )
    newsletter_event = {e.customer_id: e for e in events if e.purpose.code == "newsletter"}
    subscriptions = Subscription.objects.bulk_create(
        Subscription(
            magazine=magazine,
            customer=customer,
            status="active",
            email_hash=address_hash(customer.email),
            confirmed_at=now,
        )
        for customer in customers
    )
    Delivery.objects.bulk_create(
        Delivery(
            campaign=campaign,
            customer_id=s.customer_id,
            subscription=s,
            consent_event=newsletter_event[s.customer_id],
            status="sent",
            message_id=f"<c{campaign.pk}.s{s.pk}@shop.example.jp>",
            sent_at=now,
        )
        for s in subscriptions
    )
    return built


# ------------------------------------------------------------------ query counting


class QueryCounter:
    """Counts the SQL statements a block runs (not BEGIN, SAVEPOINT, RELEASE or COMMIT), and
    which app's eraser ran each, for `with connection.execute_wrapper(counter):`."""

    CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

    def __init__(self, *, keep_sql: bool = False):
        self.total = 0
        self.by_part: Counter[str] = Counter()
        # (part, SQL text) when asked: the statement only, never its parameters (personal data).
        self.statements: list[tuple[str, str]] | None = [] if keep_sql else None

    def __call__(self, execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(self.CONTROL):
            part = self._part()
            self.total += 1
            self.by_part[part] += 1
            if self.statements is not None:
                self.statements.append((part, sql))
        return execute(sql, params, many, context)

    @staticmethod
    def _part() -> str:
        frame = sys._getframe(2)
        while frame is not None:
            path = Path(frame.f_code.co_filename)
            if path.name == "privacy.py" and path.parent.parent.name == "apps":
                return path.parent.name  # the eraser of that app
            frame = frame.f_back
        return "workflow"
