"""The request app's door for the apps that must file or follow privacy requests without
importing it (SPEC §2: nothing imports ``privacy_requests``): the storefront API and Shopify's
privacy webhooks (apps/integration).

``apps/privacy_requests/intake.py`` registers the two functions once, at start-up; callers use
``request_file`` and ``request_state`` with ids and plain values only.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestFiling:
    """A request a connected system files for a person whose identity it vouches for."""

    kind: str  # a privacy request kind, e.g. "disclosure", "erasure", "correction"
    customer_id: int
    # How it arrived: "storefront" (the shop's own form, through the API) or "shopify".
    channel: str
    # Who vouches for the identity, e.g. "api-client:3" (ids only).
    vouched_by: str
    details: str = ""
    requested_changes: dict | None = None
    disclosure_form: str = "electronic"
    law: str = "appi"
    received_at: datetime.datetime | None = None
    language: str | None = None


@dataclass(frozen=True)
class RequestState:
    reference: str
    kind: str
    status: str
    status_label: str
    received_at: datetime.datetime
    due_on: datetime.date | None
    completed_at: datetime.datetime | None


_file: Callable[[RequestFiling], RequestState] | None = None
_state: Callable[..., RequestState | None] | None = None


def register(
    *,
    file: Callable[[RequestFiling], RequestState],
    state: Callable[..., RequestState | None],
) -> None:
    global _file, _state
    _file, _state = file, state


def request_file(filing: RequestFiling) -> RequestState:
    """File a request (one transaction in the request app); raises ValidationError on bad input."""
    if _file is None:
        raise RuntimeError("no request intake registered (apps.privacy_requests not installed?)")
    return _file(filing)


def request_state(*, reference: str, customer_ids: list[int]) -> RequestState | None:
    """The state of the request ``reference`` if it belongs to one of ``customer_ids``
    (a client sees only requests of people it brought), else None."""
    if _state is None:
        raise RuntimeError("no request intake registered (apps.privacy_requests not installed?)")
    return _state(reference=reference, customer_ids=customer_ids)
