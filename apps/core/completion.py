"""The port through which a carried-out privacy request waits for work other apps must finish
before it may complete (the request app must not import them, SPEC §2).

An upper app (integration: the propagation of an erasure, correction or stop to every system
that holds a copy) registers a ``Gate`` once, from its AppConfig.ready(). The request app:

- calls ``request_carried_out(CarriedOut(...))`` in the transaction that carries a request out
  (for an erasure *before* the erasers run, so a gate can still read what they empty), and
  completes the request at once only when it returns True (every gate open);
- registers its completer (``completer_register``); a gate whose last piece of work is done
  calls ``request_complete(request_id=...)`` (from a durable job), which completes the request
  through its own transition, if it is still waiting and every gate is open;
- asks ``request_informed(request_id=...)`` for the lines its completion notice lists.

Everything crossing the port is ids and plain values.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

# The kinds of carrying out a gate hears of (the request app maps its kinds to these).
ERASURE = "erasure"
CORRECTION = "correction"
STOP_OF_USE = "stop_of_use"
STOP_OF_PROVISION = "stop_of_provision"
ACTIONS = (ERASURE, CORRECTION, STOP_OF_USE, STOP_OF_PROVISION)


@dataclass(frozen=True)
class CarriedOut:
    request_id: int
    action: str  # one of ACTIONS
    customer_id: int
    due_on: datetime.date | None = None
    # A correction: field name -> new value (what the receiving systems must apply).
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Gate:
    name: str
    # Creates the gate's work for the request, in the caller's transaction; idempotent (a
    # request carried out again creates nothing more). Returns True when nothing is left open.
    carried_out: Callable[[CarriedOut], bool]
    is_open: Callable[[int], bool]  # request id -> may it complete?
    informed: Callable[[int], list[str]]  # request id -> what the completion notice lists


_gates: dict[str, Gate] = {}
_completer: Callable[[int], bool] | None = None


def gate_register(gate: Gate) -> None:
    """Register (or replace, by name: ready() may run more than once in tests) a gate."""
    _gates[gate.name] = gate


def completer_register(completer: Callable[[int], bool]) -> None:
    global _completer
    _completer = completer


def request_carried_out(carried_out: CarriedOut) -> bool:
    """Tell every gate; True when the request may complete now."""
    if carried_out.action not in ACTIONS:
        raise ValueError(f"unknown action {carried_out.action!r}")
    results = [gate.carried_out(carried_out) for gate in list(_gates.values())]
    return all(results)


def request_may_complete(*, request_id: int) -> bool:
    return all(gate.is_open(request_id) for gate in list(_gates.values()))


def request_informed(*, request_id: int) -> list[str]:
    lines: list[str] = []
    for gate in list(_gates.values()):
        lines += gate.informed(request_id)
    return lines


def request_complete(*, request_id: int) -> bool:
    """A gate opened: complete the request if it waits and every gate is open (the request
    app re-checks under its lock). True when it completed now."""
    if _completer is None:
        raise RuntimeError("no completer registered (apps.privacy_requests not installed?)")
    return _completer(request_id)
