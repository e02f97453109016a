import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Card numbers are 12 to 19 digits, often written in groups separated by spaces or hyphens.
_CANDIDATE_RE = re.compile(r"(?:\d[ \-]?){12,19}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def contains_card_number(value: str) -> bool:
    """True when any run of 12–19 digits (spaces/hyphens allowed) passes the Luhn check."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(value or ""))
    for match in _CANDIDATE_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        # Try every 12–19 digit window: a number may be embedded in a longer digit run.
        for length in range(min(19, len(digits)), 11, -1):
            for start in range(len(digits) - length + 1):
                if luhn_valid(digits[start : start + length]):
                    return True
    return False


def reject_card_number(value: str) -> None:
    if contains_card_number(value):
        raise ValidationError(
            _(
                "This looks like a full card number. We never store card numbers: "
                "enter only the brand and the last four digits."
            ),
            code="card_number",
        )


def validate_last4(value: str) -> None:
    if not re.fullmatch(r"\d{4}", value or ""):
        raise ValidationError(_("Enter exactly the last four digits."), code="invalid_last4")
