import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Card numbers are 12 to 19 digits, often written in groups separated by spaces or hyphens.
_DIGIT_RUN_RE = re.compile(r"\d(?:[ \-]?\d)*")


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


def _candidates(run: str):
    """The whole run, and every sequence of whole groups within it (a number written in groups
    may follow other digits: "order 20261123 4242 4242 4242 4242")."""
    groups = re.split(r"[ \-]", run)
    for start in range(len(groups)):
        for end in range(start + 1, len(groups) + 1):
            yield "".join(groups[start:end])


def contains_card_number(value: str) -> bool:
    """True when a run of 12–19 digits (spaces/hyphens allowed) passes the Luhn check."""
    text = str(value or "")
    # Fast paths (every text of every API call goes through here): an ASCII text shorter than
    # 12 characters, or a run shorter than that, cannot hold 12 digits. Other texts are
    # normalised first (full-width digits), and NFKC may lengthen them.
    if text.isascii():
        if len(text) < 12:
            return False
    else:
        text = unicodedata.normalize("NFKC", text)
    for match in _DIGIT_RUN_RE.finditer(text):
        if match.end() - match.start() < 12:
            continue
        for digits in _candidates(match.group()):
            if 12 <= len(digits) <= 19 and luhn_valid(digits):
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
