"""Validators for Japanese personal data: postal codes, prefectures, phones, kana and dates of
birth."""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

POSTAL_CODE_RE = re.compile(r"^\d{3}-\d{4}$")
# Full-width katakana, the long-vowel mark, the middle dot and spaces (between family names).
KATAKANA_RE = re.compile(r"^[\u30A0-\u30FF\u3000 ]+$")

PREFECTURES = [
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
    "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
    "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県",
    "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県",
    "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県",
    "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県",
    "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
]  # fmt: skip
PREFECTURE_CHOICES = [(p, p) for p in PREFECTURES]


def normalize_postal_code(value: str) -> str:
    """'１２３４５６７', '〒123-4567' and '1234567' all become '123-4567'."""
    value = unicodedata.normalize("NFKC", value or "").strip().lstrip("〒").strip()
    value = value.replace("ー", "-").replace("−", "-")
    if re.fullmatch(r"\d{7}", value):
        return f"{value[:3]}-{value[3:]}"
    return value


def validate_jp_postal_code(value: str) -> None:
    if not POSTAL_CODE_RE.fullmatch(value or ""):
        raise ValidationError(
            _("Enter a Japanese postal code as 123-4567."), code="invalid_postal_code"
        )


def validate_prefecture(value: str) -> None:
    if value not in PREFECTURES:
        raise ValidationError(_("Choose one of the 47 prefectures."), code="invalid_prefecture")


def normalize_phone(value: str) -> str:
    """Full-width digits and hyphens become ASCII; inner spaces and brackets go."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    value = value.replace("ー", "-").replace("−", "-").replace("‐", "-")
    return re.sub(r"[\s()]", "", value)


def validate_phone(value: str) -> None:
    """A Japanese number (0 then 9 or 10 more digits) or an international +E.164 number."""
    digits = re.sub(r"-", "", value or "")
    if re.fullmatch(r"0\d{9,10}", digits) and re.fullmatch(r"[\d-]+", value):
        return
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return
    raise ValidationError(
        _("Enter a phone number such as 03-1234-5678, 090-1234-5678 or +81 3 1234 5678."),
        code="invalid_phone",
    )


def normalize_kana(value: str) -> str:
    """Half-width katakana becomes full-width; hiragana becomes katakana."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in value)


def validate_katakana(value: str) -> None:
    if value and not KATAKANA_RE.fullmatch(value):
        raise ValidationError(
            _("Enter the reading in katakana (e.g. ヤマダ)."), code="invalid_kana"
        )


def validate_date_of_birth(value: datetime.date) -> None:
    """A date of birth lies in the past, and not before 1900."""
    from django.utils import timezone

    if value > timezone.localdate():
        raise ValidationError(_("A date of birth cannot be in the future."), code="future")
    if value.year < 1900:
        raise ValidationError(_("Enter a date of birth after 1900."), code="too_old")
