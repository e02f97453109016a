"""The default of an update service's optional field arguments: "leave this field as it is",
which ``None`` cannot say when ``None`` is a value the field may take."""

from __future__ import annotations

import enum


class Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


def given(**values: object) -> dict[str, object]:
    """The arguments the caller did pass, by name."""
    return {name: value for name, value in values.items() if value is not UNCHANGED}
