"""What `bench_ingest` sends: made-up storefront customers and orders as the API takes them, and
an EC-CUBE 4 customer CSV export (Shift_JIS / cp932, its Japanese headers). Reserved domains
(example.jp) only; nothing here is used by the shop itself."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

from apps.bench.people import FAMILY, GIVEN, PLACES, PRODUCTS

# EC-CUBE 4's customer CSV (dtb_csv, csv_type 2) in its default column order, and the mail
# magazine column its mail-magazine plugin adds (1 受け取る, 0 受け取らない).
ECCUBE_CUSTOMER_HEADER = [
    "会員ID", "お名前(姓)", "お名前(名)", "お名前(セイ)", "お名前(メイ)", "会社名", "郵便番号",
    "都道府県(ID)", "都道府県(名称)", "住所1", "住所2", "メールアドレス", "TEL",
    "性別(ID)", "性別(名称)", "職業(ID)", "職業(名称)", "誕生日", "初回購入日", "最終購入日",
    "購入回数", "ショップ用メモ欄", "会員ステータス(ID)", "会員ステータス(名称)", "登録日",
    "更新日", "メールマガジン送付(ID)",
]  # fmt: skip
_PREF_IDS = {"北海道": 1, "宮城県": 4, "東京都": 13, "神奈川県": 14, "愛知県": 23, "京都府": 26}
_PREF_IDS |= {"大阪府": 27, "福岡県": 40}


def person(i: int, run: str) -> dict:
    family, family_kana = FAMILY[i % len(FAMILY)]
    given, given_kana = GIVEN[(i // len(FAMILY)) % len(GIVEN)]
    prefecture, city, town = PLACES[i % len(PLACES)]
    return {
        "family_name": family,
        "given_name": given,
        "family_name_kana": family_kana,
        "given_name_kana": given_kana,
        "email": f"bench-{run}-{i}@example.jp",
        "phone": f"090-{i // 10000 % 10000:04d}-{i % 10000:04d}",
        "prefecture": prefecture,
        "city": city,
        "line1": f"{town}{i % 9 + 1}-{i % 20 + 1}-{i % 30 + 1}",
        "postal_code": f"{100 + i % 800:03d}-{i % 10000:04d}",
    }


def order_json(i: int, *, run: str, customer_external_id: str, lines: int, prefix: str) -> dict:
    who = person(i, run)
    items = [
        {
            "sku": f"SKU-{(i + k) % len(PRODUCTS)}",
            "name": PRODUCTS[(i + k) % len(PRODUCTS)][0],
            "unit_price": PRODUCTS[(i + k) % len(PRODUCTS)][1],
            "quantity": 1 + k % 3,
        }
        for k in range(lines)
    ]
    subtotal = sum(item["unit_price"] * item["quantity"] for item in items)
    shipping = 0 if subtotal >= 5000 else 600
    placed = datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.UTC) + datetime.timedelta(minutes=i)
    return {
        "external_id": f"{prefix}{run}-{i}",
        "customer_external_id": customer_external_id,
        "number": f"{prefix}{i}"[:20],
        "status": "paid",
        "placed_at": placed.isoformat(),
        "lines": items,
        "subtotal": subtotal,
        "shipping_fee": shipping,
        "total": subtotal + shipping,
        "ship_to": {
            "name": f"{who['family_name']} {who['given_name']}",
            "postal_code": who["postal_code"],
            "address": f"{who['prefecture']}{who['city']}{who['line1']}",
            "phone": who["phone"],
        },
        "payment": {"method": "card", "card_brand": "VISA", "card_last4": f"{i % 10000:04d}"},
    }


def encoded(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def write_eccube_csv(path: Path, rows: int, *, run: str) -> None:
    """An EC-CUBE 4 customer export of `rows` members, written as EC-CUBE writes it: cp932,
    CRLF, every field quoted."""
    with open(path, "w", encoding="cp932", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(ECCUBE_CUSTOMER_HEADER)
        for i in range(rows):
            who = person(i, run)
            joined = f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} 10:{i % 60:02d}:00"
            writer.writerow(
                [
                    str(i + 1), who["family_name"], who["given_name"], who["family_name_kana"],
                    who["given_name_kana"], "", who["postal_code"].replace("-", ""),
                    _PREF_IDS[who["prefecture"]], who["prefecture"], who["city"], who["line1"],
                    who["email"], who["phone"].replace("-", ""), str(1 + i % 2),
                    "男性" if i % 2 == 0 else "女性", "", "", f"19{70 + i % 30}-0{i % 9 + 1}-15",
                    joined, joined, "1", "", "2", "本会員", joined, joined, "1" if i % 3 == 0 else "0",
                ]
            )  # fmt: skip
