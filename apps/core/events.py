"""A small event hub, so a domain app can announce a change without knowing who listens.

    event_publish("consent.changed", customer_id=customer.pk, data={"purpose": "mail_magazine",
                  "status": "withdrawn"})

Subscribers (the integration app's outgoing webhooks, registered from its AppConfig.ready) are
called at once, in the caller's transaction: the rows they write for the event (a webhook
delivery per endpoint) exist exactly when the change does, and a subscriber that fails rolls the
change back with it (background work is a row written in the same transaction as the change
that needs it). A subscriber does no network I/O here; it writes rows and enqueues on commit.

``data`` carries ids, codes and states, never a name or an address: it is stored, and logged by
ids. The one exception is ``customer.corrected``, which carries the new values a receiving
system must apply; its subscriber keeps them only until they are delivered.

Core imports no app: the hub knows subscribers only as callables.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

# The event types the hub carries (the names receivers see).
CONSENT_CHANGED = "consent.changed"
SUBSCRIPTION_CHANGED = "subscription.changed"
PRIVACY_REQUEST_RECEIVED = "privacy_request.received"
PRIVACY_REQUEST_COMPLETED = "privacy_request.completed"
CUSTOMER_CORRECTED = "customer.corrected"
CUSTOMER_RESTRICTED = "customer.restricted"
CUSTOMER_ERASED = "customer.erased"
EVENT_TYPES = (
    CONSENT_CHANGED,
    SUBSCRIPTION_CHANGED,
    PRIVACY_REQUEST_RECEIVED,
    PRIVACY_REQUEST_COMPLETED,
    CUSTOMER_CORRECTED,
    CUSTOMER_RESTRICTED,
    CUSTOMER_ERASED,
)


@dataclass(frozen=True)
class Event:
    type: str
    customer_id: int | None
    data: dict
    occurred_at: datetime.datetime = field(default_factory=timezone.now)
    id: uuid.UUID = field(default_factory=uuid.uuid4)


Subscriber = Callable[[Event], None]
_subscribers: list[Subscriber] = []
# A subscriber's form for many events at once (`event_publish_many`), where it has one.
ManySubscriber = Callable[[list[Event]], None]
_many: dict[Subscriber, ManySubscriber] = {}


def event_subscribe(subscriber: Subscriber, *, many: ManySubscriber | None = None) -> None:
    """Call `subscriber(event)` for every event published from now on (once, however often
    it is registered: ready() may run more than once in tests). `many(events)`, if given, does
    what `subscriber` does for each of them, in a fixed number of statements."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)
    if many is not None:
        _many[subscriber] = many


def event_unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _subscribers:
        _subscribers.remove(subscriber)
    _many.pop(subscriber, None)


def _checked(type: str, customer_id: int | None, data: dict) -> Event:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if customer_id is not None and not isinstance(customer_id, int):
        raise TypeError("customer_id is an id (int)")
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValueError("event data must be plain JSON (ids, codes and states)") from exc
    return Event(type=type, customer_id=customer_id, data=dict(data))


def event_publish_many(items: list[tuple[str, int | None, dict]]) -> list[Event]:
    """`event_publish` for many (type, customer_id, data) at once, in the caller's
    transaction: each subscriber gets them all in one call where it registered a form for
    many (the webhook hub: one INSERT for every delivery), one by one otherwise. What the
    subscribers write is what as many `event_publish` calls would write."""
    published = [_checked(type, customer_id, data) for type, customer_id, data in items]
    if not published or not _subscribers:
        return published

    def deliver() -> None:
        for subscriber in list(_subscribers):
            many = _many.get(subscriber)
            if many is not None:
                many(published)
                continue
            for event in published:
                subscriber(event)

    if transaction.get_connection().in_atomic_block:
        deliver()
    else:
        with transaction.atomic():
            deliver()
    return published


def event_publish(type: str, *, customer_id: int | None = None, data: dict) -> Event:
    """Announce `type` to every subscriber, inside the caller's transaction (one is opened when
    the caller has none). Raises ValueError for an unknown type or data that is not plain JSON
    (a model instance passed by mistake would otherwise reach a receiver as its str())."""
    event = _checked(type, customer_id, data)
    if not _subscribers:
        return event
    if transaction.get_connection().in_atomic_block:
        for subscriber in list(_subscribers):
            subscriber(event)
    else:
        with transaction.atomic():
            for subscriber in list(_subscribers):
                subscriber(event)
    return event
