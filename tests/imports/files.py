"""Export files shaped as the shop systems write them, built in the tests (no real person's
data): EC-CUBE 4's member CSV with the columns of its dtb_csv seed in cp932, Shopify's customer
export in UTF-8, and the generic CSV."""

from __future__ import annotations

import csv
import io

# EC-CUBE 4's member CSV columns (dtb_csv, csv_type 2) in their default order, plus the
# MailMagazine plugin's flag as a shop adds it to the export.
ECUBE_HEADER = [
    "会員ID", "お名前(姓)", "お名前(名)", "お名前(セイ)", "お名前(メイ)", "会社名", "郵便番号",
    "都道府県(ID)", "都道府県(名称)", "住所1", "住所2", "メールアドレス", "TEL", "性別(ID)",
    "性別(名称)", "職業(ID)", "職業(名称)", "誕生日", "初回購入日", "最終購入日", "購入回数",
    "ショップ用メモ欄", "会員ステータス(ID)", "会員ステータス(名称)", "登録日", "更新日",
    "ポイント", "メールマガジン送付について",
]  # fmt: skip

SHOPIFY_HEADER = [
    "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
    "Default Address Company", "Default Address Address1", "Default Address Address2",
    "Default Address City", "Default Address Province Code", "Default Address Country Code",
    "Default Address Zip", "Default Address Phone", "Phone", "Accepts SMS Marketing",
    "Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags",
]  # fmt: skip


def ecube_member(n: int, **overrides) -> dict:
    row = {
        "会員ID": str(n),
        "お名前(姓)": "山田",
        "お名前(名)": f"花子{n}",
        "お名前(セイ)": "ヤマダ",
        "お名前(メイ)": "ハナコ",
        "会社名": "",
        "郵便番号": "5300001",
        "都道府県(ID)": "27",
        "都道府県(名称)": "大阪府",
        "住所1": "大阪市北区梅田",
        "住所2": f"1-{n}-1 梅田ビル",
        "メールアドレス": f"member{n}@example.jp",
        "TEL": "0661234567",
        "性別(ID)": "2",
        "性別(名称)": "女性",
        "職業(ID)": "",
        "職業(名称)": "",
        "誕生日": "1990-04-01 00:00:00",
        "初回購入日": "2024-01-05 10:00:00",
        "最終購入日": "2024-06-05 10:00:00",
        "購入回数": "3",
        "ショップ用メモ欄": "",
        "会員ステータス(ID)": "2",
        "会員ステータス(名称)": "本会員",
        "登録日": "2023-12-01 09:00:00",
        "更新日": "2024-06-05 10:00:00",
        "ポイント": "120",
        "メールマガジン送付について": "1",
    }
    row.update(overrides)
    return row


def write_csv(header: list[str], rows: list[dict], *, encoding: str, newline="\n") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode(encoding)


def ecube_csv(rows: list[dict], *, header=ECUBE_HEADER, encoding="cp932") -> bytes:
    # EC-CUBE writes with PHP's fputcsv: "\n" line ends, SJIS-win.
    return write_csv(header, rows, encoding=encoding)


def shopify_customer(n: int, **overrides) -> dict:
    row = {
        "Customer ID": f"'72104483{n:05d}",
        "First Name": "Taro",
        "Last Name": "Sato",
        "Email": f"shopper{n}@example.com",
        "Accepts Email Marketing": "no",
        "Default Address Company": "",
        "Default Address Address1": f"1-{n}-2 Jingumae",
        "Default Address Address2": "Harajuku Apt 3F",
        "Default Address City": "Shibuya-ku",
        "Default Address Province Code": "JP-13",
        "Default Address Country Code": "JP",
        "Default Address Zip": "150-0001",
        "Default Address Phone": "+81 90-1234-5678",
        "Phone": "+819012345678",
        "Accepts SMS Marketing": "no",
        "Total Spent": "12000.00",
        "Total Orders": "2",
        "Note": "",
        "Tax Exempt": "no",
        "Tags": "vip",
    }
    row.update(overrides)
    return row


def shopify_csv(rows: list[dict], *, header=SHOPIFY_HEADER) -> bytes:
    return write_csv(header, rows, encoding="utf-8", newline="\r\n")


GENERIC_HEADER = [
    "external_id", "kind", "family_name", "given_name", "family_name_kana", "given_name_kana",
    "email", "phone", "date_of_birth", "postal_code", "prefecture", "city", "line1", "line2",
    "consent_newsletter", "consent_wording", "consent_policy_version", "consent_source",
    "consent_at",
]  # fmt: skip


def generic_person(n: int, **overrides) -> dict:
    row = {
        "external_id": f"G-{n}",
        "kind": "member",
        "family_name": "鈴木",
        "given_name": "一郎",
        "family_name_kana": "スズキ",
        "given_name_kana": "イチロウ",
        "email": f"generic{n}@example.jp",
        "phone": "090-1111-2222",
        "date_of_birth": "1985-12-24",
        "postal_code": "100-0001",
        "prefecture": "東京都",
        "city": "千代田区",
        "line1": "千代田1-1",
        "line2": "",
        "consent_newsletter": "",
        "consent_wording": "",
        "consent_policy_version": "",
        "consent_source": "",
        "consent_at": "",
    }
    row.update(overrides)
    return row


def generic_csv(rows: list[dict], *, header=GENERIC_HEADER) -> bytes:
    return write_csv(header, rows, encoding="utf-8")
