"""The shapes shared by every way in (API, imports): parsed input, and one result per item."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AddressIn:
    recipient_name: str
    postal_code: str
    prefecture: str
    city: str
    line1: str
    line2: str = ""
    phone: str = ""
    country: str = "JP"
    label: str = ""


@dataclass(frozen=True)
class CustomerIn:
    """A person as a client knows them, under the client's own id."""

    external_id: str
    # "member" (has an account on the storefront) or "guest" (bought without one).
    kind: str
    # A Customer.AcquiredVia value: how the shop got the data (purchase, signup, import, sns_login).
    acquired_via: str
    family_name: str = ""
    given_name: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    email: str = ""
    phone: str = ""
    date_of_birth: datetime.date | None = None
    addresses: tuple[AddressIn, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """What proves a consent was given: without it no grant is recorded."""

    policy_version: str  # the PolicyVersion's version label
    source: str  # a consents Source value, e.g. "checkout"
    at: datetime.datetime
    wording: str = ""  # the exact words shown ...
    wording_id: int | None = None  # ... or the id of a Wording already known
    ip_address: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class ConsentEventIn:
    customer_external_id: str
    purpose: str  # a Purpose code
    action: str  # "grant" or "withdraw"
    evidence: Evidence | None = None
    # For a withdrawal: when and where it was made (defaults: now, the client's system).
    at: datetime.datetime | None = None
    source: str = ""


@dataclass
class ItemResult:
    """What happened (or, in a dry run, would happen) to one item."""

    index: int
    external_id: str
    # created | updated | unchanged | recorded | refused | conflict | error
    status: str
    object_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    # Field names that changed (never their values).
    changed: list[str] = field(default_factory=list)
    # The e-mail is on the suppression list (and stays there).
    suppressed: bool = False
