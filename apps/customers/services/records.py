"""Customer records that come from another system (a storefront, an import): guest purchasers
and storefront members alike, created and updated in batches, without a login.

Nothing here knows who sent the record: the caller (apps/integration) maps its ids to ours and
decides what is new. What this module owns is what a record may hold and how it is written:

- ``record_clean`` normalises and validates one record with the models' own validators (the
  kana, phone, postal code and prefecture rules of My Page) without a query, so a batch of a
  thousand costs no database round trip to validate;
- ``record_changes`` says which fields a record would change on a customer ("given" means
  non-empty: an empty value is "unknown here" and keeps what we hold, so a storefront that does
  not collect a date of birth never erases the one a member typed on My Page; addresses are
  added when new and never deleted: they may have been entered on My Page);
- ``customers_record_create`` and ``customers_record_update`` write a batch in a fixed number
  of statements. Updates lock the customers first, in primary-key order (the order of
  ``apps.core.locks``), and refuse people whose status forbids it, re-read under the lock.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.locks import person_lock
from apps.customers.models import Address, Customer, User
from apps.customers.validators import normalize_kana, normalize_phone, normalize_postal_code

logger = logging.getLogger(__name__)

# The profile fields a record may set, in the order they are reported.
RECORD_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "email",
    "phone",
    "date_of_birth",
)
ADDRESS_FIELDS = (
    "label",
    "recipient_name",
    "country",
    "postal_code",
    "prefecture",
    "city",
    "line1",
    "line2",
    "phone",
)
# The two values of kind: a member has an account on the storefront, a guest bought without one.
KINDS = ("member", "guest")
# How a record is acquired when the caller does not say.
_DEFAULT_ACQUIRED_VIA = {
    "member": Customer.AcquiredVia.SIGNUP,
    "guest": Customer.AcquiredVia.PURCHASE,
}


@dataclass(frozen=True)
class AddressRecord:
    recipient_name: str
    postal_code: str
    prefecture: str
    city: str
    line1: str
    line2: str = ""
    phone: str = ""
    country: str = "JP"
    label: str = ""

    def same_place(self, address: Address) -> bool:
        """The same address as one we hold (the label is ours to keep)."""
        return all(
            getattr(self, name) == getattr(address, name)
            for name in ADDRESS_FIELDS
            if name != "label"
        )


@dataclass(frozen=True)
class CustomerRecord:
    """A record, normalised and valid. Empty values mean "not known by the sender"."""

    acquired_via: str
    family_name: str = ""
    given_name: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    email: str = ""
    phone: str = ""
    date_of_birth: datetime.date | None = None
    addresses: tuple[AddressRecord, ...] = ()

    def given(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in RECORD_FIELDS if getattr(self, name)}


@dataclass
class RecordUpdate:
    customer_id: int
    record: CustomerRecord
    # Filled by customers_record_update.
    changed: list[str] = field(default_factory=list)
    # Why the person cannot be updated (erased, restricted), in words; empty when updated.
    refused: str = ""


_CUSTOMER_FIELDS = {name: Customer._meta.get_field(name) for name in RECORD_FIELDS}
_ADDRESS_FIELDS = {name: Address._meta.get_field(name) for name in ADDRESS_FIELDS}


def _field_clean(model_field, value, key: str, errors: dict[str, list[str]]) -> None:
    try:
        model_field.clean(value, None)
    except ValidationError as exc:
        errors[key] = exc.messages


def _field_errors(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {f"{prefix}{name}": messages for name, messages in exc.message_dict.items()}
    return {f"{prefix}non_field_errors" if prefix else "non_field_errors": exc.messages}


def record_clean(
    *,
    kind: str,
    acquired_via: str = "",
    family_name: str = "",
    given_name: str = "",
    family_name_kana: str = "",
    given_name_kana: str = "",
    email: str = "",
    phone: str = "",
    date_of_birth: datetime.date | None = None,
    addresses: Sequence[dict] = (),
) -> CustomerRecord:
    """Normalise (full-width digits, hiragana and half-width kana, 〒1234567, the e-mail's case)
    and validate one record; raise ValidationError with every field's errors (an address's as
    ``addresses.<n>.<field>``). No query."""
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [_("Choose member or guest.")]
    acquired_via = acquired_via or _DEFAULT_ACQUIRED_VIA.get(kind, "")
    if acquired_via not in Customer.AcquiredVia.values:
        errors["acquired_via"] = [_("Choose one of: %s.") % ", ".join(Customer.AcquiredVia.values)]
    cleaned = {
        "family_name": (family_name or "").strip(),
        "given_name": (given_name or "").strip(),
        "family_name_kana": normalize_kana(family_name_kana),
        "given_name_kana": normalize_kana(given_name_kana),
        "email": User.objects.normalize_email((email or "").strip()).lower(),
        "phone": normalize_phone(phone),
        "date_of_birth": date_of_birth,
    }
    # Each model field's own clean (its validators, length, blank): a blank value passes, as
    # "unknown". Field by field rather than Model.clean_fields, which visits every field of a
    # new instance: a thousand records validate in a few milliseconds each way.
    for name, value in cleaned.items():
        _field_clean(_CUSTOMER_FIELDS[name], value, name, errors)

    records = []
    for index, raw in enumerate(addresses):
        values = {
            "recipient_name": (raw.get("recipient_name") or "").strip(),
            "country": (raw.get("country") or "JP").strip().upper(),
            "postal_code": normalize_postal_code(raw.get("postal_code") or ""),
            "prefecture": (raw.get("prefecture") or "").strip(),
            "city": (raw.get("city") or "").strip(),
            "line1": (raw.get("line1") or "").strip(),
            "line2": (raw.get("line2") or "").strip(),
            # A shipping address without its own number uses the customer's.
            "phone": normalize_phone(raw.get("phone") or "") or cleaned["phone"],
            "label": (raw.get("label") or "").strip(),
        }
        prefix = f"addresses.{index}."
        for name, value in values.items():
            # A Japanese prefecture is checked by Address.clean below, with My Page's message.
            if name == "prefecture" and values["country"] == "JP":
                continue
            _field_clean(_ADDRESS_FIELDS[name], value, prefix + name, errors)
        try:
            Address(**values).clean()
        except ValidationError as exc:
            errors.update(_field_errors(exc, prefix))
        records.append(AddressRecord(**values))
    if errors:
        raise ValidationError(errors)
    return CustomerRecord(acquired_via=acquired_via, addresses=tuple(records), **cleaned)


def record_changes(
    *, customer: Customer, record: CustomerRecord, addresses: Sequence[Address]
) -> tuple[dict[str, object], list[AddressRecord]]:
    """What ``record`` would change on ``customer`` (with ``addresses``, those we hold): the
    profile fields given that differ, and the addresses not held yet."""
    profile = {
        name: value for name, value in record.given().items() if getattr(customer, name) != value
    }
    new_addresses: list[AddressRecord] = []
    for address in record.addresses:
        if not any(address.same_place(held) for held in addresses) and address not in new_addresses:
            new_addresses.append(address)
    return profile, new_addresses


def refusal_reason(customer: Customer) -> str:
    """Why another system may not write this person's record, or empty."""
    if customer.status == Customer.Status.ERASED:
        return _("This person's data was erased at their request: it cannot be written again.")
    if customer.status == Customer.Status.RESTRICTED:
        return _("This customer is restricted by the shop (terms violation): ask the shop's staff.")
    return ""


def _address_rows(customer_id: int, records: Sequence[AddressRecord], *, has_default: bool):
    rows = []
    for record in records:
        rows.append(
            Address(
                customer_id=customer_id,
                is_default=not has_default and not rows,
                **{name: getattr(record, name) for name in ADDRESS_FIELDS},
            )
        )
    return rows


def _create_together(records: Sequence[CustomerRecord]) -> list[Customer]:
    """The customers and their addresses in one statement (data-modifying CTEs, rows passed as
    arrays): an import of 100,000 people spent more on building model instances for
    ``bulk_create`` than on the database. The ids come from one sequence in the order the rows
    go in, so the n-th id of the statement is the n-th record's, and its addresses join on n.
    Only column names from the models and placeholders go into the text."""
    quote = connection.ops.quote_name

    def columns(model, names) -> str:
        return ", ".join(quote(model._meta.get_field(name).column) for name in names)

    now = timezone.now()
    customer_names = [*RECORD_FIELDS, "acquired_via"]
    types = {"date_of_birth": "date"}
    params: list = [[getattr(record, name) for record in records] for name in customer_names]
    unnest = ", ".join(f"%s::{types.get(name, 'text')}[]" for name in customer_names)
    aliases = ", ".join(f"v{i}" for i in range(len(customer_names)))
    fixed = ["status", "restriction_reason", "created_at", "updated_at"]
    params += [Customer.Status.ACTIVE, now, now]
    pk = quote(Customer._meta.pk.column)
    owners, defaults, address_values = [], [], {name: [] for name in ADDRESS_FIELDS}
    for n, record in enumerate(records, start=1):
        for position, address in enumerate(record.addresses):
            owners.append(n)
            defaults.append(position == 0)  # the first is the default, as _address_rows does
            for name in ADDRESS_FIELDS:
                address_values[name].append(getattr(address, name))
    params += [now, now, owners, defaults, *address_values.values()]
    address_aliases = ", ".join(f"a{i}" for i in range(len(ADDRESS_FIELDS)))
    address_unnest = ", ".join("%s::text[]" for _name in ADDRESS_FIELDS)
    sql = (
        f"WITH v AS (SELECT * FROM unnest({unnest}) WITH ORDINALITY AS v({aliases}, n)), "  # noqa: S608
        f"c AS (INSERT INTO {quote(Customer._meta.db_table)} "
        f"({columns(Customer, customer_names)}, {columns(Customer, fixed)}) "
        f"SELECT {aliases}, %s, '', %s, %s FROM v ORDER BY n RETURNING {pk}), "
        f"m AS (SELECT {pk} AS id, row_number() OVER (ORDER BY {pk}) AS n FROM c), "
        f"a AS (INSERT INTO {quote(Address._meta.db_table)} "
        f"({columns(Address, ['created_at', 'updated_at', 'customer', 'is_default'])}, "
        f"{columns(Address, ADDRESS_FIELDS)}) SELECT %s, %s, m.id, x.is_default, "
        f"{address_aliases} FROM unnest(%s::bigint[], %s::boolean[], {address_unnest}) "
        f"WITH ORDINALITY AS x(n, is_default, {address_aliases}, position) "
        f"JOIN m ON m.n = x.n ORDER BY x.position) "
        f"SELECT id FROM m ORDER BY n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    customers = []
    for customer_id, record in zip(ids, records, strict=True):
        customer = Customer(
            pk=customer_id,
            acquired_via=record.acquired_via,
            created_at=now,
            updated_at=now,
            **{name: getattr(record, name) for name in RECORD_FIELDS},
        )
        customer._state.adding = False
        customer._state.db = connection.alias
        customers.append(customer)
    return customers


@transaction.atomic
def customers_record_create(*, records: Sequence[CustomerRecord]) -> list[Customer]:
    """Create one customer (no login) per record, with its addresses (the first is the
    default): two INSERTs for the whole batch (one statement on PostgreSQL)."""
    if connection.vendor == "postgresql" and records:
        customers = _create_together(records)
        logger.info("customer records created count=%s", len(customers))
        return customers
    customers = Customer.objects.bulk_create(
        [
            Customer(
                acquired_via=record.acquired_via,
                **{name: getattr(record, name) for name in RECORD_FIELDS},
            )
            for record in records
        ]
    )
    Address.objects.bulk_create(
        [
            row
            for customer, record in zip(customers, records, strict=True)
            for row in _address_rows(customer.pk, record.addresses, has_default=False)
        ]
    )
    logger.info("customer records created count=%s", len(customers))
    return customers


def _customers_update(customers: list[Customer], names: list[str]) -> None:
    """Write ``names`` (and ``updated_at``, which bulk writes do not set) of every customer in
    one statement. On PostgreSQL an ``UPDATE … FROM (VALUES …)``: Django's bulk_update builds a
    CASE per field and row, which costs more than the rest of a thousand-item batch together."""
    now = timezone.now()
    for customer in customers:
        customer.updated_at = now
    columns = [Customer._meta.get_field(name) for name in [*names, "updated_at"]]
    if connection.vendor != "postgresql":
        Customer.objects.bulk_update(customers, [f.name for f in columns], batch_size=100)
        return
    quote = connection.ops.quote_name
    pk = Customer._meta.pk
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in [pk, *columns]) + ")"
    params = [
        field.get_db_prep_save(getattr(customer, field.attname), connection)
        for customer in customers
        for field in [pk, *columns]
    ]
    # Only names quoted by the backend and the fields' own types go into the text; every value
    # is a parameter.
    sql = (
        f"UPDATE {quote(Customer._meta.db_table)} AS c SET "  # noqa: S608
        + ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
        + f" FROM (VALUES {', '.join([row] * len(customers))}) AS v("
        + ", ".join(quote(f.column) for f in [pk, *columns])
        + f") WHERE c.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def customers_record_update(*, updates: Sequence[RecordUpdate]) -> list[RecordUpdate]:
    """Apply each record to its customer, under the lock of every customer in the batch (taken
    in primary-key order, as ``apps.core.locks`` orders them): profile fields given that differ,
    addresses not held yet. A person erased or restricted (re-read under the lock) is refused
    and left alone. Fills each update's ``changed`` (field names) or ``refused``; a fixed number
    of statements for the batch."""
    ids = sorted({update.customer_id for update in updates})
    if len(ids) == 1:
        try:
            locked = {ids[0]: person_lock(customer_id=ids[0]).customer}
        except Customer.DoesNotExist:
            locked = {}
    else:
        locked = {
            customer.pk: customer
            for customer in Customer.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
        }
    held: dict[int, list[Address]] = {pk: [] for pk in ids}
    for address in Address.objects.filter(customer_id__in=ids).order_by("pk"):
        held[address.customer_id].append(address)

    to_save: dict[int, Customer] = {}
    save_fields: set[str] = set()
    new_rows: list[Address] = []
    for update in updates:
        customer = locked.get(update.customer_id)
        if customer is None:
            update.refused = _("This customer no longer exists.")
            continue
        update.refused = refusal_reason(customer)
        if update.refused:
            continue
        profile, new_addresses = record_changes(
            customer=customer, record=update.record, addresses=held[customer.pk]
        )
        if customer.user_id and "email" in profile:
            # A member's e-mail is their login here: only they move it, from My Page.
            del profile["email"]
        for name, value in profile.items():
            setattr(customer, name, value)
        if profile:
            to_save[customer.pk] = customer
            save_fields.update(profile)
        rows = _address_rows(
            customer.pk,
            new_addresses,
            has_default=any(a.is_default for a in held[customer.pk]),
        )
        held[customer.pk].extend(rows)
        new_rows.extend(rows)
        update.changed = [name for name in RECORD_FIELDS if name in profile]
        if rows:
            update.changed.append("addresses")
    if to_save:
        _customers_update(list(to_save.values()), sorted(save_fields))
    Address.objects.bulk_create(new_rows)
    logger.info(
        "customer records updated count=%s refused=%s",
        len(to_save),
        sum(1 for update in updates if update.refused),
    )
    return list(updates)
