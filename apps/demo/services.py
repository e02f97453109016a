"""Idempotent demo data: staff per role, a member with orders and addresses, a crowd."""

from __future__ import annotations

import random

from django.contrib.auth.models import Group
from django.db import transaction

from apps.core import roles
from apps.core.services import roles_setup
from apps.customers import services as customer_services
from apps.customers.models import Customer, User
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


def _marketing(member: Customer) -> None:
    from django.conf import settings

    from apps.consents.models import Purpose
    from apps.marketing.models import Campaign, MailMagazine, Subscription
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
    Campaign.objects.get_or_create(
        magazine=magazine,
        subject="【デモショップ】秋の新茶のご案内",
        defaults={
            "body_text": "{name} 様\n\n静岡の新茶が入荷しました。5,000円以上で送料無料です。"
        },
    )


@transaction.atomic
def demo_seed(*, crowd: int = 300) -> dict:
    roles_setup()
    for sku, name, price in PRODUCTS:
        Product.objects.get_or_create(sku=sku, defaults={"name": name, "price": price})
    staff = _staff()
    member = _member()
    _marketing(member)
    created = _crowd(crowd)
    return {
        "staff": staff,
        "member": MEMBER_EMAIL,
        "password": DEMO_PASSWORD,
        "crowd_added": created,
    }
