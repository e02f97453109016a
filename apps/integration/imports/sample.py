"""A made-up EC-CUBE 4 member CSV of any size (no real person in it), written row by row, for
measuring the import: ``python manage.py shell -c "from apps.integration.imports.sample import
ecube_sample_write; ecube_sample_write('/tmp/members.csv', rows=100_000)"``."""

from __future__ import annotations

import csv
from pathlib import Path

from apps.customers.validators import PREFECTURES
from apps.integration.imports.formats import EcCubeFormat as F

HEADER = [
    F.ID, F.FAMILY_NAME, F.GIVEN_NAME, F.FAMILY_KANA, F.GIVEN_KANA, "会社名", F.POSTAL_CODE,
    F.PREFECTURE_ID, F.PREFECTURE_NAME, F.ADDRESS1, F.ADDRESS2, F.EMAIL, F.PHONE, "性別(ID)",
    "性別(名称)", "職業(ID)", "職業(名称)", F.BIRTH, "初回購入日", "最終購入日", "購入回数",
    "ショップ用メモ欄", F.STATUS_ID, F.STATUS_NAME, "登録日", "更新日", "ポイント",
    F.MAIL_MAGAZINE[0],
]  # fmt: skip
FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ")]
GIVEN = [("花子", "ハナコ"), ("太郎", "タロウ"), ("美咲", "ミサキ"), ("翔太", "ショウタ")]


def ecube_sample_row(n: int) -> list[str]:
    family, family_kana = FAMILY[n % len(FAMILY)]
    given, given_kana = GIVEN[(n // 4) % len(GIVEN)]
    prefecture = n % len(PREFECTURES)
    return [
        str(n), family, given, family_kana, given_kana, "", f"{1000000 + n % 8999999:07d}",
        str(prefecture + 1), PREFECTURES[prefecture], "サンプル市中央区", f"本町{n % 9 + 1}-{n % 97}",
        f"member{n}@example.invalid", f"03{n % 100000000:08d}", "", "", "", "",
        f"{1950 + n % 50}-{n % 12 + 1:02d}-{n % 28 + 1:02d} 00:00:00", "", "", "0", "", "2",
        "本会員", "2024-01-01 00:00:00", "2024-06-01 00:00:00", "0", ("1", "0", "")[n % 3],
    ]  # fmt: skip


def ecube_sample_write(path: str | Path, *, rows: int, start: int = 1) -> Path:
    """Write ``rows`` members (ids from ``start``), cp932 as EC-CUBE exports; a third each say
    yes, no and nothing to the mail magazine."""
    path = Path(path)
    with path.open("w", encoding="cp932", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(start, start + rows):
            writer.writerow(ecube_sample_row(n))
    return path
