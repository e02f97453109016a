"""Customers in: one service for the API (single and bulk) and the imports.

``customers_upsert`` takes a client's records under the client's own ids. What an upsert does:

- An id the client has not sent before creates a customer (guest purchasers and storefront
  members alike; no login is created: a storefront member reaches My Page through the
  privacy-center link) and maps the id to it. No record is matched to an existing customer by
  e-mail: an address typed at a storefront's checkout proves nothing about who owns it, and
  joining on it would hand one person's record to another.
- An id already mapped updates that customer. Fields are "given" when non-empty: an empty value
  means "the storefront does not know" and keeps what we hold (a storefront without a date of
  birth field never erases the one a member typed on My Page). Addresses are added when not
  held yet and never deleted. ``acquired_via`` is how the record first came and is set only at
  creation. A member's login e-mail (one who signed up here) is theirs to change on My Page.
- A person erased, restricted by the shop, or who asked to stop the use of their data is
  refused (``status="conflict"`` with the reason) and nothing of theirs is touched. An erasure
  keeps only a keyed hash of the client's id (``erased_external_id``), which is looked up too:
  a sync that sends an erased person again is refused, not created anew.
- An invalid record is ``status="error"`` with its fields' errors; the others go on.
- An e-mail on the suppression list gives ``suppressed=True`` and stays there: nothing here
  subscribes anyone or grants a consent.
- ``dry_run=True`` reads only and answers what would happen (no ``object_id`` for a new one).

Speed: a batch is validated in Python, looked up in three queries (mappings, suppression,
stops of use) and written in a fixed number of statements inside one savepoint; if the database
refuses it (another call created one of the same ids meanwhile), the batch is written again item
by item, each in its own savepoint, so one bad item never sinks the others.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents.models import PersonRestriction
from apps.customers.models import Address, Customer
from apps.customers.services.records import (
    CustomerRecord,
    RecordUpdate,
    customers_record_create,
    customers_record_update,
    record_changes,
    record_clean,
    refusal_reason,
)
from apps.integration.ingest.types import CustomerIn, ItemResult
from apps.integration.models import ApiClient, ExternalCustomer
from apps.marketing.models import SuppressedAddress
from apps.marketing.selectors import address_hash

logger = logging.getLogger(__name__)

EXTERNAL_ID_MAX_LENGTH = ExternalCustomer._meta.get_field("external_id").max_length
# What an erasure leaves of a client's id (apps/integration/privacy.py): a keyed hash under this
# prefix, which no id a client sends may start with.
ERASED_PREFIX = "erased:"


def erased_external_id(*, client_id: int, external_id: str) -> str:
    """The keyed hash an erasure keeps instead of a client's id for the person: enough to
    recognise the id when the client sends it again (and answer that the person was erased,
    instead of creating them anew), not enough to tell anyone what the id was. Keyed as the
    suppression list is (SUPPRESSION_HMAC_KEY: hashes that outlive an erasure)."""
    key = settings.SUPPRESSION_HMAC_KEY.encode()
    message = f"external-customer\0{client_id}\0{external_id}".encode()
    return ERASED_PREFIX + hmac.digest(key, message, "sha256").hex()


class Status:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    ERROR = "error"


def _stopped_reason() -> str:
    return _("This person asked the shop to stop using their data: it cannot be written.")


def _clean(item: CustomerIn) -> CustomerRecord:
    errors: dict[str, list[str]] = {}
    external_id = item.external_id or ""
    if not external_id.strip():
        errors["external_id"] = [_("This field is required.")]
    elif len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        errors["external_id"] = [_("At most %(n)d characters.") % {"n": EXTERNAL_ID_MAX_LENGTH}]
    elif external_id.startswith(ERASED_PREFIX):
        errors["external_id"] = [_("An id may not start with “%s”.") % ERASED_PREFIX]
    try:
        record = record_clean(
            kind=item.kind,
            acquired_via=item.acquired_via,
            # A frozen dataclass's own dict, read only (asdict would deep-copy each).
            addresses=[vars(address) for address in item.addresses],
            family_name=item.family_name,
            given_name=item.given_name,
            family_name_kana=item.family_name_kana,
            given_name_kana=item.given_name_kana,
            email=item.email,
            phone=item.phone,
            date_of_birth=item.date_of_birth,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return record


def _created_fields(record: CustomerRecord) -> list[str]:
    return [*record.given(), *(["addresses"] if record.addresses else [])]


def _suppressed_hashes(emails: set[str]) -> set[str]:
    """Addresses kept off every magazine (an unsubscribe from all mail, a bounce, a complaint,
    an erasure): one query for the batch."""
    hashes = {address_hash(email) for email in emails if email}
    if not hashes:
        return set()
    return set(
        SuppressedAddress.objects.filter(
            magazine__isnull=True, address_hash__in=hashes
        ).values_list("address_hash", flat=True)
    )


def _map_ids(client: ApiClient, external_ids: list[str], customer_ids: list[int]) -> None:
    """The client's ids of new customers, in one INSERT (on PostgreSQL without building a model
    instance per row: an import maps 100,000)."""
    if connection.vendor != "postgresql":
        ExternalCustomer.objects.bulk_create(
            ExternalCustomer(client=client, external_id=external_id, customer_id=customer_id)
            for external_id, customer_id in zip(external_ids, customer_ids, strict=True)
        )
        return
    quote = connection.ops.quote_name
    names = ("client", "external_id", "customer", "created_at")
    columns = ", ".join(quote(ExternalCustomer._meta.get_field(name).column) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(ExternalCustomer._meta.db_table)} ({columns}) "  # noqa: S608
            "SELECT %s, v.external_id, v.customer_id, %s "
            "FROM unnest(%s::text[], %s::bigint[]) AS v(external_id, customer_id)",
            [client.pk, timezone.now(), external_ids, customer_ids],
        )


def _write(
    client: ApiClient,
    new: list[tuple[int, CustomerRecord]],
    existing: list[tuple[int, int, CustomerRecord]],
    external_ids: dict[int, str],
) -> dict[int, ItemResult]:
    """Create the new and update the existing, in a fixed number of statements."""
    results: dict[int, ItemResult] = {}
    if new:
        customers = customers_record_create(records=[record for _index, record in new])
        _map_ids(
            client,
            [external_ids[index] for index, _record in new],
            [customer.pk for customer in customers],
        )
        for (index, record), customer in zip(new, customers, strict=True):
            results[index] = ItemResult(
                index=index,
                external_id=external_ids[index],
                status=Status.CREATED,
                object_id=customer.pk,
                changed=_created_fields(record),
            )
    if existing:
        updates = customers_record_update(
            updates=[
                RecordUpdate(customer_id=customer_id, record=record)
                for _index, customer_id, record in existing
            ]
        )
        for (index, customer_id, _record), update in zip(existing, updates, strict=True):
            if update.refused:
                status, errors = Status.CONFLICT, {"non_field_errors": [update.refused]}
            else:
                status = Status.UPDATED if update.changed else Status.UNCHANGED
                errors = {}
            results[index] = ItemResult(
                index=index,
                external_id=external_ids[index],
                status=status,
                object_id=customer_id,
                errors=errors,
                changed=update.changed,
            )
    return results


def _dry_run(
    new: list[tuple[int, CustomerRecord]],
    existing: list[tuple[int, int, CustomerRecord]],
    customers: dict[int, Customer],
    external_ids: dict[int, str],
) -> dict[int, ItemResult]:
    results: dict[int, ItemResult] = {}
    for index, record in new:
        results[index] = ItemResult(
            index=index,
            external_id=external_ids[index],
            status=Status.CREATED,
            changed=_created_fields(record),
        )
    held: dict[int, list] = {pk: [] for pk in customers}
    for address in _addresses_of(list(customers)):
        held[address.customer_id].append(address)
    for index, customer_id, record in existing:
        customer = customers[customer_id]
        profile, addresses = record_changes(
            customer=customer, record=record, addresses=held[customer_id]
        )
        if customer.user_id:
            profile.pop("email", None)
        changed = [*profile, *(["addresses"] if addresses else [])]
        results[index] = ItemResult(
            index=index,
            external_id=external_ids[index],
            status=Status.UPDATED if changed else Status.UNCHANGED,
            object_id=customer_id,
            changed=changed,
        )
    return results


def _addresses_of(customer_ids: list[int]):
    return Address.objects.filter(customer_id__in=customer_ids).order_by("pk")


@transaction.atomic
def customers_upsert(
    *, client: ApiClient, items: Sequence[CustomerIn], dry_run: bool = False
) -> list[ItemResult]:
    """Create or update each item's customer under ``(client, item.external_id)``; one result
    per item, in order. See the module's docstring for what "update" means."""
    results: dict[int, ItemResult] = {}
    records: dict[int, CustomerRecord] = {}
    external_ids: dict[int, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        external_id = (item.external_id or "").strip()
        external_ids[index] = external_id
        try:
            records[index] = _clean(item)
        except ValidationError as exc:
            results[index] = ItemResult(
                index=index, external_id=external_id, status=Status.ERROR, errors=exc.message_dict
            )
            continue
        if external_id in seen:
            del records[index]
            results[index] = ItemResult(
                index=index,
                external_id=external_id,
                status=Status.ERROR,
                errors={"external_id": [_("This id is already in this batch: send it once.")]},
            )
            continue
        seen.add(external_id)

    # Each id as sent, and as an erasure would have left it.
    lookup = {external_ids[i]: external_ids[i] for i in records}
    lookup.update(
        {
            erased_external_id(client_id=client.pk, external_id=external_ids[i]): external_ids[i]
            for i in records
        }
    )
    mapped = {
        lookup[row.external_id]: row.customer
        for row in ExternalCustomer.objects.filter(
            client=client, external_id__in=list(lookup)
        ).select_related("customer")
    }
    customers = {customer.pk: customer for customer in mapped.values()}
    stopped = (
        set(
            PersonRestriction.objects.filter(
                customer_id__in=list(customers), stop_use=True
            ).values_list("customer_id", flat=True)
        )
        if customers
        else set()
    )

    new: list[tuple[int, CustomerRecord]] = []
    existing: list[tuple[int, int, CustomerRecord]] = []
    for index, record in records.items():
        customer = mapped.get(external_ids[index])
        if customer is None:
            new.append((index, record))
            continue
        reason = refusal_reason(customer) or (_stopped_reason() if customer.pk in stopped else "")
        if reason:
            results[index] = ItemResult(
                index=index,
                external_id=external_ids[index],
                status=Status.CONFLICT,
                object_id=customer.pk,
                errors={"non_field_errors": [reason]},
            )
            continue
        existing.append((index, customer.pk, record))

    if dry_run:
        results.update(_dry_run(new, existing, customers, external_ids))
    else:
        try:
            with transaction.atomic():
                results.update(_write(client, new, existing, external_ids))
        except IntegrityError:
            # Another call created one of these ids since we looked: item by item, each one
            # looked up again.
            results.update(_write_one_by_one(client, new, existing, external_ids))

    suppressed = _suppressed_hashes(
        {
            records[index].email or getattr(mapped.get(external_ids[index]), "email", "")
            for index in records
        }
    )
    for index, record in records.items():
        email = record.email or getattr(mapped.get(external_ids[index]), "email", "")
        if email and results[index].status != Status.ERROR and address_hash(email) in suppressed:
            results[index].suppressed = True

    ordered = [results[index] for index in range(len(items))]
    if not dry_run:
        counts: dict[str, int] = {}
        for result in ordered:
            counts[result.status] = counts.get(result.status, 0) + 1
        logger.info("customers upserted client_id=%s %s", client.pk, counts)
    return ordered


def _write_one_by_one(
    client: ApiClient,
    new: list[tuple[int, CustomerRecord]],
    existing: list[tuple[int, int, CustomerRecord]],
    external_ids: dict[int, str],
) -> dict[int, ItemResult]:
    results: dict[int, ItemResult] = {}
    work = [(index, None, record) for index, record in new] + list(existing)
    for index, customer_id, record in sorted(work, key=lambda w: w[0]):
        for _attempt in range(2):
            if customer_id is None:
                customer_id = (
                    ExternalCustomer.objects.filter(
                        client=client,
                        external_id__in=[
                            external_ids[index],
                            erased_external_id(
                                client_id=client.pk, external_id=external_ids[index]
                            ),
                        ],
                    )
                    .values_list("customer_id", flat=True)
                    .first()
                )
            try:
                with transaction.atomic():
                    if customer_id is None:
                        results.update(_write(client, [(index, record)], [], external_ids))
                    else:
                        results.update(
                            _write(client, [], [(index, customer_id, record)], external_ids)
                        )
                break
            except IntegrityError:
                continue  # created meanwhile: look it up again and update it
            except DatabaseError as exc:
                # The error's text may quote the values: its class only.
                logger.warning(
                    "customer upsert item failed client_id=%s error=%s",
                    client.pk,
                    type(exc).__name__,
                )
                results[index] = ItemResult(
                    index=index,
                    external_id=external_ids[index],
                    status=Status.ERROR,
                    errors={"non_field_errors": [_("This item could not be stored.")]},
                )
                break
        else:
            results[index] = ItemResult(
                index=index,
                external_id=external_ids[index],
                status=Status.ERROR,
                errors={"non_field_errors": [_("This item could not be stored.")]},
            )
    return results


def customer_for_external_id(*, client: ApiClient, external_id: str) -> Customer | None:
    """The customer ``client`` knows as ``external_id`` (an erased one too, whose id an
    erasure replaced by its hash), with addresses, or None."""
    if external_id.startswith(ERASED_PREFIX):
        return None
    erased = erased_external_id(client_id=client.pk, external_id=external_id)
    row = (
        ExternalCustomer.objects.filter(client=client, external_id__in=[external_id, erased])
        .select_related("customer")
        .prefetch_related("customer__addresses")
        .first()
    )
    return row.customer if row else None
