"""Idempotent demo data: staff per role, a member with orders and addresses, a crowd; the
marketing audience with months of consent history and sent campaigns (apps/demo/audience.py);
inquiries and a restricted customer; then what the apps above the demo add from their own
``demo.py`` (apps/core/demo.py): privacy requests in every state, incidents, a connected
system."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from apps.core import roles
from apps.core.demo import DemoContext, demo_seeders
from apps.core.services import roles_setup
from apps.customers import services as customer_services
from apps.customers.models import Customer, Inquiry, User
from apps.demo import audience
from apps.marketing.models import MailMagazine
from apps.orders.models import Product
from apps.orders.services import LineItem, PaymentInput, order_place

DEMO_PASSWORD = "demo-pass-2026"
STAFF = [
    ("admin@example.com", None),
    ("support@example.com", roles.SUPPORT),
    ("privacy@example.com", roles.PRIVACY_OFFICER),
    ("marketing@example.com", roles.MARKETING),
]
MEMBER_EMAIL = "member@example.com"
PRODUCTS = [
    ("TEA-001", "煎茶 100g", 1200),
    ("TEA-002", "抹茶 30g", 2400),
    ("CUP-001", "有田焼 湯呑み", 3800),
    ("TOWEL-01", "今治タオル", 1800),
]
FAMILY = [("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"),
          ("田中", "タナカ"), ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("中村", "ナカムラ")]  # fmt: skip
GIVEN = [("花子", "ハナコ"), ("太郎", "タロウ"), ("陽菜", "ヒナ"), ("蓮", "レン"),
         ("結衣", "ユイ"), ("大翔", "ヒロト"), ("さくら", "サクラ"), ("悠真", "ユウマ")]  # fmt: skip


def _staff() -> list[tuple[str, str]]:
    logins = []
    for email, role in STAFF:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, is_staff=True, is_superuser=role is None
            )
        if role:
            user.groups.set([Group.objects.get(name=role)])
        logins.append((email, role or "superuser"))
    return logins


def _member() -> Customer:
    user = User.objects.filter(email__iexact=MEMBER_EMAIL).first()
    if user is not None:
        return user.customer
    customer = _confirmed(
        customer_services.member_signup(
            email=MEMBER_EMAIL,
            password=DEMO_PASSWORD,
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            phone="090-1234-5678",
        )
    )
    home = customer_services.address_create(
        customer=customer,
        label="自宅",
        recipient_name="山田 花子",
        country="JP",
        postal_code="150-0001",
        prefecture="東京都",
        city="渋谷区神宮前",
        line1="1-2-3",
        line2="デモマンション 101",
        phone="090-1234-5678",
    )
    customer_services.address_create(
        customer=customer,
        label="実家",
        recipient_name="山田 一郎",
        country="JP",
        postal_code="530-0001",
        prefecture="大阪府",
        city="大阪市北区梅田",
        line1="2-4-6",
        phone="06-1234-5678",
    )
    products = list(Product.objects.order_by("sku"))
    for i in range(3):
        order_place(
            customer=customer,
            items=[LineItem(products[i].pk, 1 + i), LineItem(products[-1].pk, 1)],
            ship_to=home,
            payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
        )
    return customer


def _confirmed(customer: Customer) -> Customer:
    """The demo member's address counts as confirmed (it receives no real mail): the demo shows
    a member whose consents and mail magazine are in force from the start."""
    from django.utils import timezone

    User.objects.filter(pk=customer.user_id).update(email_confirmed_at=timezone.now())
    customer.user.refresh_from_db()
    return customer


def _crowd(target: int) -> int:
    existing = Customer.objects.filter(acquired_via=Customer.AcquiredVia.IMPORT).count()
    rng = random.Random(2026)
    batch = []
    for i in range(existing, target):
        (family, family_kana), (given, given_kana) = rng.choice(FAMILY), rng.choice(GIVEN)
        batch.append(
            Customer(
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                email=f"customer{i:04d}@example.com",
                phone=f"090-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                acquired_via=Customer.AcquiredVia.IMPORT,
            )
        )
    Customer.objects.bulk_create(batch, batch_size=500)
    return len(batch)


# Members who file the demo's privacy requests from My Page (the last is also known to the
# demo's connected system, apps/integration/demo.py).
REQUESTERS = [("佐々木", "ササキ", "美咲", "ミサキ"), ("小林", "コバヤシ", "健", "ケン"),
              ("加藤", "カトウ", "愛", "アイ"), ("吉田", "ヨシダ", "翔", "ショウ"),
              ("山本", "ヤマモト", "葵", "アオイ"), ("松本", "マツモト", "誠", "マコト"),
              ("井上", "イノウエ", "優子", "ユウコ")]  # fmt: skip
INQUIRIES = [
    ("order", "注文した商品がまだ届きません。配送状況を教えてください。"),
    ("product", "抹茶 30g の賞味期限はどのくらいですか。"),
    ("privacy", "登録しているメールアドレスに広告メールを送らないでください。"),
    ("other", "領収書の宛名を変更できますか。"),
]


def _requesters() -> list[Customer]:
    """The requesters, signed up on the first run only: two of them are erased by the demo's
    requests (their address is gone then), and a second run must not sign them up again."""
    emails = [f"requester{n}@example.com" for n in range(1, len(REQUESTERS) + 1)]
    existing = list(
        Customer.objects.filter(user__email__in=emails).order_by("pk").select_related("user")
    )
    if existing:
        return existing
    people = []
    for email, (family, family_kana, given, given_kana) in zip(emails, REQUESTERS, strict=True):
        customer = customer_services.member_signup(
            email=email,
            password=DEMO_PASSWORD,
            family_name=family,
            given_name=given,
            family_name_kana=family_kana,
            given_name_kana=given_kana,
        )
        people.append(_confirmed(customer))
    return people


def _inquiries() -> int:
    added = 0
    for n, (topic, message) in enumerate(INQUIRIES, start=1):
        email = f"inquiry{n}@example.com"
        if Inquiry.objects.filter(email=email).exists():
            continue
        (family, _kana), (given, _g) = FAMILY[n], GIVEN[n]
        # Received over the last days, so the oldest shows how long people wait.
        with audience.as_of(timezone.now() - datetime.timedelta(days=5 - n, hours=n)):
            customer_services.inquiry_create(
                name=f"{family} {given}", email=email, topic=topic, message=message
            )
        added += 1
    return added


def _restricted(crowd: list[Customer]) -> None:
    person = crowd[-1] if crowd else None
    if person is not None and person.status == Customer.Status.ACTIVE:
        customer_services.customer_restrict(
            customer=person, reason="転売目的の大量注文の繰り返し（デモ）"
        )


def _marketing(member: Customer) -> MailMagazine:
    from django.conf import settings

    from apps.consents.models import Purpose
    from apps.marketing.models import Campaign, Subscription
    from apps.marketing.services import subscription_subscribe_member

    magazine, _ = MailMagazine.objects.get_or_create(
        slug="weekly",
        defaults={
            "name": "週刊デモショップ通信",
            "description": "新商品とセールのお知らせを毎週お届けします。",
            "purpose": Purpose.objects.get(code="newsletter"),
            "from_name": settings.SHOP_NAME or "デモショップ",
            "from_email": settings.DEFAULT_FROM_EMAIL,
        },
    )
    if not Subscription.objects.filter(customer=member, magazine=magazine).exists():
        subscription_subscribe_member(customer=member, magazine=magazine)
    return magazine
    Campaign.objects.get_or_create(
        magazine=magazine,
        subject="【デモショップ】秋の新茶のご案内",
        defaults={
            "body_text": "{name} 様\n\n静岡の新茶が入荷しました。5,000円以上で送料無料です。"
        },
    )


def demo_seed(*, crowd: int = 300) -> dict:
    """Everything, each part in a transaction of its own (what a part leaves to a worker on
    commit, such as carrying out an erasure, is done before the next part starts)."""
    today = timezone.localdate()
    with transaction.atomic():
        roles_setup()
        for sku, name, price in PRODUCTS:
            Product.objects.get_or_create(sku=sku, defaults={"name": name, "price": price})
        staff = _staff()
        member = _member()
        magazine = _marketing(member)
        created = _crowd(crowd)
        people = list(
            Customer.objects.filter(acquired_via=Customer.AcquiredVia.IMPORT).order_by("pk")
        )
    with transaction.atomic():
        requesters = _requesters()
    with transaction.atomic():
        joined = audience.consent_history(
            magazine=magazine, crowd=people[: sum(audience.JOINED_PER_MONTH)], today=today
        )
        campaigns = audience.campaigns_sent(magazine=magazine, today=today)
    with transaction.atomic():
        inquiries = _inquiries()
        _restricted(people)
    context = DemoContext(
        officer_id=User.objects.get(email__iexact="privacy@example.com").pk,
        requester_ids=[c.pk for c in requesters],
        crowd_ids=[c.pk for c in people],
        today=today,
    )
    parts = {}
    for seeder in demo_seeders():
        with transaction.atomic():
            parts[seeder.name] = seeder.seed(context)
    return {
        "staff": staff,
        "member": MEMBER_EMAIL,
        "password": DEMO_PASSWORD,
        "crowd_added": created,
        "audience_added": joined,
        "campaigns_added": campaigns,
        "inquiries_added": inquiries,
        "parts": parts,
    }
