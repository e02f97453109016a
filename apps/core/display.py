"""One stored value as a person reads it: the one helper every people-facing table uses (the
disclosure page, anything else that shows exported personal data), so that a yen amount or a
time reads the same wherever it appears."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

# What an empty value reads as: "nothing" is an answer, a blank cell looks like a bug.
NOTHING = "—"


def display_value(
    value: Any, *, labels: Mapping[Any, Any] | None = None, money: bool = False
) -> str:
    """`value` in words: a code by its label (`labels`, from the model's choices), nothing as
    a dash, yes/no, a datetime in the shop's time zone to the minute, a date as ISO, an amount
    (`money`) in yen."""
    if labels is not None and not isinstance(value, dict | list) and value in labels:
        return str(labels[value])
    if value in (None, "", [], {}):
        return NOTHING
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if money and isinstance(value, int):
        return f"¥{value:,}"
    return str(value)
