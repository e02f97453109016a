"""Consent events from a shop's systems (the API and the imports). The consent check, a read, is
``apps.integration.selectors.consents_check``.

One rule above all: **a grant needs evidence** — the words the person was shown (or the id of a
``Wording`` we already hold), the published policy version it was given under, where (checkout,
signup...) and when. A grant without it is refused, never recorded: no sync or import can raise
consent on its own (the most common complaint about mail platforms is a sync that resubscribes
people who had unsubscribed). A withdrawal is always accepted, with or without evidence.

Further, a grant does not override a later choice: a grant whose evidence time is older than the
person's current answer for the purpose (say, they unsubscribed here after the checkout the
storefront is now reporting) is refused. A grant for an erased or restricted person, or one who
asked us to stop using their data, is a conflict. Granting a mail-magazine purpose lifts no
suppression and creates no subscription: the result only says the address is suppressed.

Times: the ledger's ``occurred_at`` is when the event reached us (so the ledger and the
current-state table agree on one order); the time the client's system gives is checked (not in
the future, not older than the current answer) and kept beside the event, with the client, in
``ExternalConsentEvent``.

Each batch reads what it needs in a fixed number of queries (external ids, customers locked in
primary-key order, purposes, policy versions, wordings, current states, restrictions,
suppressions), decides every item, and then writes the items that change something through the
consents ledger's bulk service (``consent_events_record``, one call site: ``_ledger_record``), again
in a fixed number of statements: a batch of 1,000 costs about as many queries as a batch of 10.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents.models import (
    ConsentEvent,
    ConsentState,
    PersonRestriction,
    PolicyVersion,
    Purpose,
    Source,
    Wording,
)
from apps.consents.services import Evidence as LedgerEvidence
from apps.consents.services import LedgerEntry, consent_events_record
from apps.customers.models import Customer, User
from apps.integration.ingest.types import ConsentEventIn, Evidence, ItemResult
from apps.integration.models import ApiClient, ExternalConsentEvent, ExternalCustomer
from apps.marketing.models import MailMagazine, SuppressedAddress
from apps.marketing.selectors import address_hash

GRANT = "grant"
WITHDRAW = "withdraw"
ACTIONS = (GRANT, WITHDRAW)

# Where a shop's system may say a choice was made. The back office's own processes (staff,
# privacy requests, policy changes, e-mail confirmation) are not among them: a storefront claiming
# "email_confirmation" would skip the rule that a member's opt-in waits for a confirmed address.
API_SOURCES = (
    Source.CHECKOUT,
    Source.SIGNUP,
    Source.MYPAGE,
    Source.SUBSCRIBE_FORM,
    Source.COOKIE_BANNER,
    Source.UNSUBSCRIBE,
    Source.IMPORT,
    Source.STOREFRONT,
)

# A storefront's clock may run a little ahead of ours; beyond this an event time is refused.
CLOCK_SKEW = datetime.timedelta(minutes=5)

# The source of a withdrawal that names none, by the client's system: a shop system's own pages
# ("storefront"), or, for another kind of system (a CRM, a mail platform), a sync ("import").
DEFAULT_WITHDRAW_SOURCE = {
    ApiClient.System.STOREFRONT: Source.STOREFRONT,
    ApiClient.System.ECCUBE: Source.STOREFRONT,
    ApiClient.System.SHOPIFY: Source.STOREFRONT,
    ApiClient.System.OTHER: Source.IMPORT,
}

Status = ConsentState.Status


@dataclass
class _Current:
    """A person's current answer for one purpose, as the batch sees it."""

    status: str | None  # a ConsentState.Status, None when never asked
    since: datetime.datetime | None
    # Given while the member's address is unconfirmed: a new grant changes nothing.
    awaits_confirmation: bool = False


def consent_events_apply(
    *,
    client: ApiClient,
    items: Sequence[ConsentEventIn],
    dry_run: bool = False,
    actor: User | None = None,
) -> list[ItemResult]:
    """Record ``items`` (grants and withdrawals from ``client``'s system) in the consent ledger,
    in order, one result per item: ``recorded`` (an event was written; ``object_id`` is the
    ledger event), ``unchanged`` (the answer already stood), ``refused`` (a grant without
    complete evidence, or older than the current answer), ``conflict`` (a grant for an erased or
    restricted person), ``error`` (unknown customer or purpose, invalid values). ``actor``: the
    staff user who ran an import from the admin, recorded on each event (an API call has none).

    With ``dry_run`` nothing is written and the results say what would happen. The batch is one
    transaction; items are independent (one item's refusal does not stop the others)."""
    # A dry run rolls back to its own savepoint; a real batch is part of the caller's transaction
    # (one statement fewer each way for a single event).
    with transaction.atomic(savepoint=dry_run):
        batch = _Batch.load(client=client, items=items, lock=not dry_run)
        batch.actor = actor
        results = [batch.apply(index, item) for index, item in enumerate(items)]
        if dry_run:
            transaction.set_rollback(True)
        else:
            batch.write()
    return results


class _Batch:
    """What a batch needs, read in a fixed number of queries."""

    def __init__(self, client: ApiClient):
        self.client = client
        self.actor: User | None = None
        self.now = timezone.now()
        self.customers: dict[str, Customer] = {}  # by external id
        self.purposes: dict[str, Purpose] = {}  # by code
        self.policies: dict[str, PolicyVersion] = {}  # published, by version label
        self.wordings: dict[int, Wording] = {}
        self.current: dict[tuple[int, int], _Current] = {}  # (customer id, purpose id)
        self.stopped: set[int] = set()  # customer ids with a stop of use
        self.suppressed: set[tuple[int, int]] = set()  # (customer id, purpose id)
        # What the batch will write, once its items are all decided: (result, entry, client's time).
        self.writes: list[tuple[ItemResult, LedgerEntry, datetime.datetime]] = []

    @classmethod
    def load(cls, *, client: ApiClient, items: Sequence[ConsentEventIn], lock: bool) -> _Batch:
        batch = cls(client)
        external_ids = {item.customer_external_id for item in items}
        customer_ids = dict(
            ExternalCustomer.objects.filter(
                client=client, external_id__in=external_ids
            ).values_list("external_id", "customer_id")
        )
        people = Customer.objects.filter(pk__in=set(customer_ids.values())).order_by("pk")
        if lock:
            # Every person of the batch at once, in primary-key order (apps/core/locks.py's
            # order), so two concurrent batches cannot deadlock and what is decided below (status,
            # current answers) still holds when the batch is written.
            people = people.select_for_update(of=("self",))
        by_pk = {person.pk: person for person in people}
        batch.customers = {
            external_id: by_pk[pk] for external_id, pk in customer_ids.items() if pk in by_pk
        }
        codes = {item.purpose for item in items}
        batch.purposes = {
            purpose.code: purpose
            for purpose in Purpose.objects.filter(code__in=codes).select_related("scope_version")
        }
        evidences = [item.evidence for item in items if item.evidence is not None]
        labels = {evidence.policy_version for evidence in evidences}
        batch.policies = {
            policy.version: policy
            for policy in PolicyVersion.objects.filter(
                version__in=labels, published_at__isnull=False
            )
        }
        wording_ids = {e.wording_id for e in evidences if e.wording_id is not None}
        if wording_ids:
            batch.wordings = Wording.objects.in_bulk(wording_ids)
        pks = list(by_pk)
        purpose_ids = [purpose.pk for purpose in batch.purposes.values()]
        for state in ConsentState.objects.filter(
            customer_id__in=pks, purpose_id__in=purpose_ids
        ).select_related("last_event__external"):
            external = getattr(state.last_event, "external", None)
            batch.current[(state.customer_id, state.purpose_id)] = _Current(
                status=state.status,
                # The time the person chose, as the system that told us says, where one did.
                since=external.occurred_at if external else state.last_event.occurred_at,
                awaits_confirmation=state.last_event.action == ConsentEvent.Action.PENDING,
            )
        batch.stopped = set(
            PersonRestriction.objects.filter(customer_id__in=pks, stop_use=True).values_list(
                "customer_id", flat=True
            )
        )
        batch._load_suppressions(items)
        return batch

    def _load_suppressions(self, items: Sequence[ConsentEventIn]) -> None:
        """Which granted (person, purpose) pairs have the person's address on the suppression
        list for a magazine of that purpose (or for every magazine): reported, never lifted."""
        magazines = {}
        for magazine_id, purpose_id in MailMagazine.objects.filter(
            purpose_id__in=[p.pk for p in self.purposes.values()]
        ).values_list("pk", "purpose_id"):
            magazines.setdefault(purpose_id, set()).add(magazine_id)
        if not magazines:
            return
        hashes: dict[str, set[int]] = {}
        for item in items:
            person = self.customers.get(item.customer_external_id)
            if item.action == GRANT and person is not None and person.email:
                hashes.setdefault(address_hash(person.email), set()).add(person.pk)
        if not hashes:
            return
        rows = SuppressedAddress.objects.filter(address_hash__in=hashes).values_list(
            "address_hash", "magazine_id"
        )
        for digest, magazine_id in rows:
            for purpose_id, ids in magazines.items():
                if magazine_id is None or magazine_id in ids:
                    self.suppressed.update((pk, purpose_id) for pk in hashes[digest])

    # ------------------------------------------------------------------ one item

    def apply(self, index: int, item: ConsentEventIn) -> ItemResult:
        item = _with_aware_times(item)
        result = ItemResult(index=index, external_id=item.customer_external_id, status="error")
        person = self.customers.get(item.customer_external_id)
        purpose = self.purposes.get(item.purpose)
        if person is None:
            result.errors["customer"] = [
                _("No customer with this external id for this API client: send the customer first.")
            ]
        if purpose is None or not purpose.is_active:
            result.errors["purpose"] = [_("Unknown purpose code.")]
        if item.action not in ACTIONS:
            result.errors["action"] = [_("The action must be “grant” or “withdraw”.")]
        if result.errors:
            return result
        if item.action == GRANT:
            return self._grant(result, item, person, purpose)
        return self._withdraw(result, item, person, purpose)

    def _grant(self, result, item, person, purpose) -> ItemResult:
        evidence = item.evidence
        if evidence is None:
            result.status = "refused"
            result.errors["evidence"] = [
                _(
                    "A grant needs evidence (the wording shown, the policy version, the source "
                    "and the time): without it no consent is recorded."
                )
            ]
            return result
        errors, refusals = self._check_evidence(evidence, purpose)
        if errors:
            result.errors = errors
            return result
        if refusals:
            result.status, result.errors = "refused", refusals
            return result
        if person.status in (Customer.Status.ERASED, Customer.Status.RESTRICTED):
            result.status = "conflict"
            result.errors["customer"] = [
                _("This customer's data has been erased: no consent can be recorded.")
                if person.status == Customer.Status.ERASED
                else _("This customer is restricted: no consent can be recorded.")
            ]
            return result
        if person.pk in self.stopped:
            result.status = "conflict"
            result.errors["customer"] = [
                _("This customer asked us to stop using their data: no consent can be recorded.")
            ]
            return result
        result.suppressed = (person.pk, purpose.pk) in self.suppressed
        current = self.current.get((person.pk, purpose.pk))
        if current is not None and (
            current.status == Status.GRANTED or current.awaits_confirmation
        ):
            result.status = "unchanged"
            return result
        if current is not None and current.since is not None and evidence.at < current.since:
            result.status = "refused"
            result.errors["evidence.at"] = [
                _(
                    "A later choice of this person for this purpose is already recorded: an "
                    "older grant does not override it."
                )
            ]
            return result
        entry = LedgerEntry(
            customer=person,
            purpose=purpose,
            granted=True,
            source=evidence.source,
            evidence=LedgerEvidence(
                wording=evidence.wording or self.wordings[evidence.wording_id].text,
                policy_version=self.policies[evidence.policy_version],
                ip_address=evidence.ip_address or None,
                user_agent=evidence.user_agent or "",
                actor=self.actor,
            ),
        )
        return self._record(result, entry, at=evidence.at)

    def _withdraw(self, result, item, person, purpose) -> ItemResult:
        """Always recorded once the person and the purpose are known: a flaw in what comes with
        it is noted in ``errors`` and replaced by a default, never a reason to keep using the
        person's data."""
        evidence = item.evidence
        default_source = DEFAULT_WITHDRAW_SOURCE.get(self.client.system, Source.IMPORT)
        source = (evidence.source if evidence else "") or item.source or default_source
        if source not in API_SOURCES:
            result.errors["source"] = [
                _("Not a known source: recorded as coming from the client's system.")
            ]
            source = default_source
        at = (evidence.at if evidence else None) or item.at or self.now
        if at > self.now + CLOCK_SKEW:
            result.errors["at"] = [
                _("The time is in the future: recorded with the time it reached us.")
            ]
            at = self.now
        policy = None
        if evidence is not None and evidence.policy_version:
            policy = self.policies.get(evidence.policy_version)
            if policy is None:
                result.errors["evidence.policy_version"] = [
                    _("No published policy version by this label: recorded under the current one.")
                ]
        wording = None
        if evidence is not None and evidence.wording:
            wording = evidence.wording
        elif evidence is not None and evidence.wording_id is not None:
            known = self.wordings.get(evidence.wording_id)
            if known is None:
                result.errors["evidence.wording_id"] = [
                    _("No wording with this id: recorded with the purpose's description.")
                ]
            else:
                wording = known.text
        current = self.current.get((person.pk, purpose.pk))
        if current is not None and current.status == Status.WITHDRAWN:
            result.status = "unchanged"
            return result
        entry = LedgerEntry(
            customer=person,
            purpose=purpose,
            granted=False,
            source=source,
            evidence=LedgerEvidence(
                wording=wording,
                policy_version=policy,
                ip_address=(evidence.ip_address if evidence else None) or None,
                user_agent=(evidence.user_agent if evidence else "") or "",
                actor=self.actor,
            ),
        )
        return self._record(result, entry, at=at)

    def _check_evidence(self, evidence: Evidence, purpose: Purpose):
        """(errors: invalid values, refusals: evidence incomplete or not covering the purpose)."""
        errors: dict[str, list[str]] = {}
        refusals: dict[str, list[str]] = {}
        if evidence.source not in API_SOURCES:
            errors["evidence.source"] = [_("Unknown source.")]
        if evidence.at is None:
            refusals["evidence.at"] = [_("A grant needs the time it was given.")]
        elif evidence.at > self.now + CLOCK_SKEW:
            errors["evidence.at"] = [_("The time of the event is in the future.")]
        if not evidence.wording and evidence.wording_id is None:
            refusals["evidence.wording"] = [
                _("A grant needs the wording shown (or the id of a known wording).")
            ]
        elif evidence.wording_id is not None:
            known = self.wordings.get(evidence.wording_id)
            if known is None:
                errors["evidence.wording_id"] = [_("No wording with this id.")]
            elif evidence.wording and evidence.wording != known.text:
                errors["evidence.wording"] = [
                    _("The wording and the wording id name different texts: send one of them.")
                ]
        if not evidence.policy_version:
            refusals["evidence.policy_version"] = [_("A grant needs the policy version.")]
        else:
            policy = self.policies.get(evidence.policy_version)
            if policy is None:
                errors["evidence.policy_version"] = [
                    _("No published policy version by this label.")
                ]
            elif (
                purpose.scope_version is not None
                and policy.published_at < purpose.scope_version.published_at
            ):
                refusals["evidence.policy_version"] = [
                    _(
                        "This purpose was widened after that policy version: consent given "
                        "under it does not cover the purpose as it reads now. Ask again."
                    )
                ]
        return errors, refusals

    def _record(self, result: ItemResult, entry: LedgerEntry, *, at) -> ItemResult:
        """Decided: the item will be written; later items of the batch see its answer."""
        key = (entry.customer.pk, entry.purpose.pk)
        self.current[key] = _Current(
            status=Status.GRANTED if entry.granted else Status.WITHDRAWN, since=at
        )
        self.writes.append((result, entry, at))
        result.status = "recorded"
        return result

    def write(self) -> None:
        """The batch's events in the ledger, in a fixed number of statements; each keeps the
        client and its time beside it."""
        events = _ledger_record([entry for _result, entry, _at in self.writes])
        ExternalConsentEvent.objects.bulk_create(
            [
                ExternalConsentEvent(event=event, client=self.client, occurred_at=at)
                for (_result, _entry, at), event in zip(self.writes, events, strict=True)
            ]
        )
        for (result, _entry, _at), event in zip(self.writes, events, strict=True):
            result.object_id = event.pk


def _with_aware_times(item: ConsentEventIn) -> ConsentEventIn:
    """A time without a zone (an import's column) is the shop's local time (TIME_ZONE)."""

    def aware(moment: datetime.datetime | None) -> datetime.datetime | None:
        if moment is None or timezone.is_aware(moment):
            return moment
        return timezone.make_aware(moment)

    if item.evidence is not None and item.evidence.at is not None:
        item = replace(item, evidence=replace(item.evidence, at=aware(item.evidence.at)))
    return replace(item, at=aware(item.at)) if item.at is not None else item


def _ledger_record(entries: list[LedgerEntry]) -> list[ConsentEvent]:
    """The one place this module writes to the consents ledger (a merge that changes the
    ledger's parameters changes only this function). The ledger stamps each event with the time
    it reaches us; the client's time is kept beside it by the caller. The batch holds the
    persons' locks, taken when it was loaded."""
    return consent_events_record(entries=entries, locked=True)
