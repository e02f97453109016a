"""Demo data from the apps the demo may not import (``manage.py seed_demo``, apps/demo).

The demo app sits low in the import rules, so the apps above it (privacy requests, incidents,
integration) add their part of the demo from their own ``demo.py`` with ``demo_register``,
as they register their personal data and their dashboard panels. apps/demo makes the people
and the marketing data, then runs each registered seeder, in ``order``, in a transaction of
its own (what a seeder leaves to a worker on commit, such as carrying out an erasure, is done
before the next one starts). Every seeder is idempotent: a second run adds nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoContext:
    """What the demo app made for the seeders: ids only."""

    officer_id: int  # the privacy officer's login
    requester_ids: list[int]  # customers with a login, who file requests from My Page
    crowd_ids: list[int]  # customers without a login (imported), oldest first
    today: datetime.date


@dataclass(frozen=True)
class Seeder:
    name: str
    seed: Callable[[DemoContext], dict]
    order: int


_seeders: dict[str, Seeder] = {}


def demo_register(name: str, *, seed: Callable[[DemoContext], dict], order: int = 100) -> None:
    _seeders[name] = Seeder(name, seed, order)


def demo_seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))
