"""The disclosure page in words a customer reads.

`personal_data_export` speaks the apps' language: app and section keys, field names, choice
codes, UTC datetimes and nested dicts. Whoever reads their disclosure (APPI Art. 33, GDPR
Art. 15) should not need to know any of that, so `{% disclosure_sections data as sections %}`
turns it into titled sections with translated headers and display values, and
`{% disclosure_cell cell %}` renders one value. A section, field or code this module does not
know yet is still shown, under a readable fallback, so a new exporter field can neither break
the page nor go missing from it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import template
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.consents.models import ConsentEvent, ConsentState, ProvisionRecord, Purpose, Source
from apps.customers.models import Customer, EmailConfirmation, Inquiry
from apps.marketing.models import Delivery, Subscription
from apps.orders.models import Order, Payment
from apps.privacy_requests.models import (
    Channel,
    Kind,
    Law,
    Outcome,
    RequesterType,
    RequestEvent,
    Status,
)

register = template.Library()

NOTHING = "—"
# Sections with more columns than this show each record as its own label/value table: a dozen
# columns side by side can be neither read on screen nor printed.
MAX_GRID_COLUMNS = 5
# Amounts in yen, wherever they are nested.
MONEY_KEYS = {"total", "subtotal", "shipping_fee", "unit_price", "amount", "fee_amount", "price"}
# Dicts whose values are [before, after] pairs (a correction's applied changes).
BEFORE_AFTER_KEYS = {"applied_changes"}

# Column headers by field name (the last part of a nested key), whatever the section.
HEADERS: dict[str, Promise] = {
    "id": _("Record number"),
    "family_name": _("Family name"),
    "given_name": _("Given name"),
    "family_name_kana": _("Family name (kana)"),
    "given_name_kana": _("Given name (kana)"),
    "date_of_birth": _("Date of birth"),
    "phone": _("Phone number"),
    "email": _("E-mail address"),
    "restriction_reason": _("Reason your account was restricted"),
    "acquired_via": _("How you became a customer"),
    "status": _("Status"),
    "created_at": _("Recorded at"),
    "country": _("Country"),
    "is_default": _("Default address"),
    "label": _("Address name"),
    "recipient_name": _("Recipient name"),
    "postal_code": _("Postal code"),
    "prefecture": _("Prefecture"),
    "city": _("City, ward, town"),
    "line1": _("Street and number"),
    "line2": _("Building, room"),
    "topic": _("Topic"),
    "name": _("Name"),
    "message": _("Message"),
    "date_joined": _("Member since"),
    "email_confirmed_at": _("E-mail address confirmed at"),
    "last_login": _("Last login"),
    "number": _("Order number"),
    "placed_at": _("Ordered at"),
    "total": _("Total"),
    "ship_name": _("Shipping name"),
    "ship_postal_code": _("Shipping postal code"),
    "ship_address": _("Shipping address"),
    "ship_phone": _("Shipping phone number"),
    "lines": _("Items"),
    "product": _("Product"),
    "unit_price": _("Unit price"),
    "quantity": _("Quantity"),
    "payment": _("Payment"),
    "method": _("Payment method"),
    "card_brand": _("Card brand"),
    "card_last4": _("Card number (last 4 digits)"),
    "purpose": _("Purpose of use"),
    "action": _("Given or withdrawn"),
    "source": _("Via"),
    "at": _("Date and time"),
    "policy_version": _("Privacy policy version"),
    "wording": _("Text you were shown"),
    "ip_address": _("IP address"),
    "user_agent": _("Browser (user agent)"),
    "recipient": _("Recipient"),
    "recipient_address": _("Recipient's address"),
    "provided_on": _("Provided on"),
    "data_items": _("Data items"),
    "basis": _("Basis"),
    "provider": _("Provided by"),
    "received_on": pgettext_lazy("data received from a third party", "Received on"),
    "how_acquired": _("How the provider obtained the data"),
    "stop_use": _("Stop of use"),
    "stop_provision": _("Stop of provision to third parties"),
    "updated_at": _("Updated at"),
    "magazine": _("Mail magazine"),
    "unsubscribed_at": _("Unsubscribed at"),
    "campaign": _("Subject"),
    "sent_at": _("Sent at"),
    "reference": _("Request reference"),
    "kind": _("Kind of request"),
    "law": _("Law"),
    "channel": _("Received through"),
    "requester_type": _("Requested by"),
    "received_at": _("Received at"),
    "due_on": _("Answer due by"),
    "outcome": _("Outcome"),
    "decision_reasons": _("Reasons given"),
    "closed_at": _("Closed at"),
    "details": _("What you asked"),
    "requested_changes": _("Changes you asked for"),
    "applied_changes": _("Changes made (before → after)"),
    "step": _("Step"),
}


# Where the value of a key is a code: the model choices (or a function returning the mapping)
# that say it in words.
Labels = type[models.Choices] | Callable[[], Mapping[Any, str]]


def _purpose_names() -> dict[str, str]:
    """The purposes of use in the active language: the exporters give their codes only."""
    return {purpose.code: purpose.name for purpose in Purpose.objects.all()}


@dataclass(frozen=True)
class SectionInfo:
    title: Promise | str
    explanation: Promise | str = ""
    # key (dotted for nested values, as in "payment.method") -> its labels
    labels: Mapping[str, Labels] = field(default_factory=dict)
    # headers that read differently in this section than in HEADERS
    headers: Mapping[str, Promise] = field(default_factory=dict)


# Every section the exporters write, in the order the page shows them. Titles have a context
# of their own: words like "Profile" or "Orders" are translated for My Page's menu elsewhere.
SECTIONS: dict[tuple[str, str], SectionInfo] = {
    ("customers", "profile"): SectionInfo(
        pgettext_lazy("disclosure page section", "Profile"),
        _("The details you registered with us."),
        labels={"acquired_via": Customer.AcquiredVia, "status": Customer.Status},
    ),
    ("customers", "addresses"): SectionInfo(
        pgettext_lazy("disclosure page section", "Addresses"),
        _("The delivery addresses saved with your account."),
    ),
    ("customers", "login"): SectionInfo(
        pgettext_lazy("disclosure page section", "Login"),
        _(
            "Your member login. Your password is stored only in a form that cannot be turned "
            "back into it, so it is not shown."
        ),
    ),
    ("customers", "email_confirmations"): SectionInfo(
        pgettext_lazy("disclosure page section", "E-mail address confirmations"),
        _("The links we sent to confirm your e-mail address, and when you opened them."),
        labels={"kind": EmailConfirmation.Kind},
        headers={
            "kind": _("Why"),
            "email": _("Address confirmed"),
            "previous_email": _("Address it replaced"),
            "created_at": _("Sent at"),
            "confirmed_at": _("Confirmed at"),
        },
    ),
    ("customers", "inquiries"): SectionInfo(
        pgettext_lazy("disclosure page section", "Inquiries"),
        _("Messages you sent us through the contact form."),
        labels={"topic": Inquiry.Topic},
        headers={"created_at": _("Sent at")},
    ),
    ("orders", "orders"): SectionInfo(
        pgettext_lazy("disclosure page section", "Orders"),
        _(
            "Your orders, where they were shipped and how they were paid. For cards we keep "
            "only the brand and the last four digits."
        ),
        labels={"status": Order.Status, "payment.method": Payment.Method},
    ),
    ("consents", "consents"): SectionInfo(
        pgettext_lazy("disclosure page section", "Consents (current)"),
        _("What you currently agree to, for each purpose of use."),
        labels={"purpose": _purpose_names, "status": ConsentState.Status},
        headers={"since": _("Last changed at")},
    ),
    ("consents", "consent_history"): SectionInfo(
        pgettext_lazy("disclosure page section", "Consent history"),
        _("Every time you gave or withdrew consent, with the text you were shown."),
        labels={"purpose": _purpose_names, "action": ConsentEvent.Action, "source": Source},
    ),
    ("consents", "third_party_provision"): SectionInfo(
        pgettext_lazy("disclosure page section", "Third-party provision records"),
        _("When we provided your data to another company: to whom and on what basis."),
        labels={"basis": ProvisionRecord.Basis},
    ),
    ("consents", "received_from_third_parties"): SectionInfo(
        pgettext_lazy("disclosure page section", "Data received from third parties"),
        _("Data about you we received from another company, and how they obtained it."),
    ),
    ("consents", "restrictions"): SectionInfo(
        pgettext_lazy("disclosure page section", "Restrictions of use"),
        _("Whether you asked us to stop using your data or to stop providing it to others."),
    ),
    ("marketing", "subscriptions"): SectionInfo(
        pgettext_lazy("disclosure page section", "Mail magazine subscriptions"),
        labels={"status": Subscription.Status},
        headers={"since": _("Subscribed since")},
    ),
    ("marketing", "mails_received"): SectionInfo(
        pgettext_lazy("disclosure page section", "Mails you received"),
        _("The mail magazine issues we sent you."),
        labels={"status": Delivery.Status, "provider_report": Delivery.Feedback},
        headers={"provider_report": _("What the mail provider reported")},
    ),
    ("privacy_requests", "requests"): SectionInfo(
        pgettext_lazy("disclosure page section", "Your requests"),
        _("Your requests about your personal data, this one included."),
        labels={
            "kind": Kind,
            "law": Law,
            "channel": Channel,
            "requester_type": RequesterType,
            "status": Status,
            "outcome": Outcome,
        },
    ),
    ("privacy_requests", "timeline"): SectionInfo(
        pgettext_lazy("disclosure page section", "Request timeline"),
        _("Each step in handling your requests."),
        labels={"step": RequestEvent.Step},
    ),
}


@dataclass(frozen=True)
class Cell:
    """One displayed value: a text, a few lines (a nested record) or a small table (a nested
    list of records, such as an order's lines)."""

    text: str = ""
    lines: tuple[str, ...] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @property
    def records(self) -> list[list[tuple[str, Cell]]]:
        """Each row as (header, cell) pairs, for a record shown as a label/value table."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Section:
    title: str
    explanation: str
    table: Table

    @property
    def as_records(self) -> bool:
        return len(self.table.headers) > MAX_GRID_COLUMNS


class _Formatter:
    """Display values of one section: its labels are looked up once (the purposes' names
    take a query), then used for every row."""

    def __init__(self, info: SectionInfo):
        self.headers = info.headers
        self.labels = {key: _labels_of(source) for key, source in info.labels.items()}

    def header(self, key: str) -> str:
        leaf = key.rsplit(".", 1)[-1]
        label = self.headers.get(leaf) or HEADERS.get(leaf)
        return str(label) if label else leaf.replace("_", " ").capitalize()

    def table(self, rows: list[dict], path: str = "") -> Table:
        keys: list[str] = []
        for row in rows:
            keys += [key for key in row if key not in keys]
        return Table(
            headers=tuple(self.header(key) for key in keys),
            rows=tuple(
                tuple(
                    self.cell(row[key], _join(path, key)) if key in row else Cell(text=NOTHING)
                    for key in keys
                )
                for row in rows
            ),
        )

    def cell(self, value: Any, key: str) -> Cell:
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return Cell(table=self.table(value, key))
        if isinstance(value, dict | list) and value:
            return Cell(lines=self.lines(value, key))
        return Cell(text=self.text(value, key))

    def lines(self, value: dict | list, key: str) -> tuple[str, ...]:
        if isinstance(value, list):
            return tuple(self.flat(item, key) for item in value)
        return tuple(
            gettext("%(label)s: %(value)s")
            % {"label": self.header(name), "value": self.flat(item, _join(key, name), key)}
            for name, item in value.items()
        )

    def flat(self, value: Any, key: str, parent: str = "") -> str:
        """A value inside a nested one, on one line."""
        if parent.rsplit(".", 1)[-1] in BEFORE_AFTER_KEYS and isinstance(value, list):
            return " → ".join(self.text(item, key) for item in value)
        if isinstance(value, dict | list) and value:
            return ", ".join(self.lines(value, key))
        return self.text(value, key)

    def text(self, value: Any, key: str) -> str:
        labels = self.labels.get(key)
        if labels is not None and not isinstance(value, dict | list) and value in labels:
            return str(labels[value])
        if value in (None, "", [], {}):
            return NOTHING
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if isinstance(value, datetime.datetime):
            return _local(value).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, int) and key.rsplit(".", 1)[-1] in MONEY_KEYS:
            return f"¥{value:,}"
        return str(value)


def _labels_of(source: Labels) -> Mapping[Any, str]:
    if isinstance(source, type) and issubclass(source, models.Choices):
        return dict(source.choices)
    return source()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _ordered(data: dict[str, dict[str, list[dict]]]) -> list[tuple[tuple[str, str], list]]:
    """The known sections in page order, then any section no one described here yet."""
    present = {
        (app, name): rows for app, sections in data.items() for name, rows in sections.items()
    }
    known = [(key, present.pop(key)) for key in SECTIONS if key in present]
    return known + list(present.items())


def _section(app: str, name: str, rows: list[dict]) -> Section:
    info = SECTIONS.get((app, name)) or SectionInfo(
        f"{app} / {name}".replace("_", " ").capitalize()
    )
    return Section(
        title=str(info.title),
        explanation=str(info.explanation),
        table=_Formatter(info).table(rows),
    )


@register.simple_tag
def disclosure_sections(data: dict[str, dict[str, list[dict]]]) -> list[Section]:
    """`data` (from `personal_data_export`) as titled sections of display values, in the
    active language."""
    return [_section(app, name, rows) for (app, name), rows in _ordered(data)]


@register.simple_tag
def disclosure_cell(cell: Cell) -> SafeString:
    """One value as HTML: its text, its lines, or a small table."""
    if cell.table is not None:
        table = cell.table
        head = format_html_join("", "<th>{}</th>", ((header,) for header in table.headers))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((disclosure_cell(c),) for c in row)),)
                for row in table.rows
            ),
        )
        return format_html('<table class="nested"><tr>{}</tr>{}</table>', head, body)
    if cell.lines:
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in cell.lines))
    return format_html("{}", cell.text)
