"""Writes on consents, split by concern; import from here. Every grant and withdrawal appends to
the ledger and updates the current-state table in one transaction (ledger); policy publication
(policy); the cookie banner (cookies); restrictions, provision and receipt records (records)."""

from apps.consents.services.cookies import cookie_choice_record, visitor_link
from apps.consents.services.ledger import (
    Evidence,
    consent_confirm_pending,
    consent_events_purge,
    consent_grant,
    consent_record_offline,
    consent_set,
    consent_withdraw,
    consent_withdraw_all,
    consent_withdraw_all_many,
    wording_for,
)
from apps.consents.services.ledger_bulk import LedgerEntry, consent_events_record
from apps.consents.services.policy import policy_version_publish
from apps.consents.services.records import (
    provision_record_check,
    provision_record_create,
    receipt_record_create,
    restriction_set,
)

__all__ = [
    "Evidence",
    "LedgerEntry",
    "consent_confirm_pending",
    "consent_events_purge",
    "consent_events_record",
    "consent_grant",
    "consent_record_offline",
    "consent_set",
    "consent_withdraw",
    "consent_withdraw_all",
    "consent_withdraw_all_many",
    "cookie_choice_record",
    "policy_version_publish",
    "provision_record_check",
    "provision_record_create",
    "receipt_record_create",
    "restriction_set",
    "visitor_link",
    "wording_for",
]
