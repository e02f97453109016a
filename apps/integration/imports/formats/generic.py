"""Our generic CSV (docs/integration.md §7)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.customers.validators import normalize_kana, normalize_phone, normalize_postal_code
from apps.integration.imports.formats.base import (
    ACQUIRED_VIA_IMPORT,
    IMPORT_SOURCE,
    MAIL_MAGAZINE_PURPOSE,
    ExportFormat,
    required_message,
)
from apps.integration.imports.parsing import (
    NO,
    YES,
    Cells,
    ImportFileError,
    ParsedRow,
    parse_datetime,
    parse_flag,
)
from apps.integration.ingest.types import AddressIn, ConsentEventIn, CustomerIn, Evidence


class GenericFormat(ExportFormat):
    """Our own UTF-8 CSV, documented in docs/integration.md §7. A ``consent_<purpose>``
    column per purpose (``consent_newsletter``; ``consent_mail_magazine`` is the same purpose)
    holds yes / no / empty; the evidence columns say what a "yes" rests on, and without all of
    them (policy version, source, time, and the wording or its id) a "yes" is not granted."""

    code = "generic"
    label = gettext_lazy("generic CSV")
    encodings = ("utf-8",)
    describe = "UTF-8"

    FIELDS = (
        "external_id",
        "kind",
        "acquired_via",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "email",
        "phone",
        "date_of_birth",
        "postal_code",
        "prefecture",
        "city",
        "line1",
        "line2",
    )
    EVIDENCE = (
        "consent_wording",
        "consent_wording_id",
        "consent_policy_version",
        "consent_source",
        "consent_at",
        "consent_ip",
        "consent_user_agent",
    )
    ALIASES = {"mail_magazine": MAIL_MAGAZINE_PURPOSE}
    KINDS = ("member", "guest")
    FLAG_YES = {"yes", "true", "1", "y", "granted"}
    FLAG_NO = {"no", "false", "0", "n", "withdrawn"}

    required = ("external_id",)
    columns = {
        **{name: name for name in FIELDS},
        "recipient_name": "family_name",
        "wording": "consent_wording",
        "wording_id": "consent_wording_id",
        "policy_version": "consent_policy_version",
        "source": "consent_source",
        "at": "consent_at",
        "ip_address": "consent_ip",
        "user_agent": "consent_user_agent",
    }

    def check_header(self, header: list[str]) -> None:
        self.purpose_columns: dict[str, str] = {}
        for column in header:
            if column.startswith("consent_") and column not in self.EVIDENCE:
                code = column.removeprefix("consent_")
                self.purpose_columns[column] = self.ALIASES.get(code, code)
        unknown = [
            column
            for column, code in self.purpose_columns.items()
            if self.purposes is not None and code not in self.purposes
        ]
        if unknown:
            raise ImportFileError(
                _("No purpose of use has the code of the columns %(columns)s.")
                % {"columns": ", ".join(unknown)}
            )
        if len(self.purpose_columns) == 1:
            self.columns = {**self.columns, "purpose": next(iter(self.purpose_columns))}

    def parse_row(self, row: ParsedRow, get: Cells) -> None:
        external_id = get("external_id")
        if not external_id:
            row.error("external_id", required_message())
            return
        row.external_id = external_id
        kind = get("kind") or "guest"
        if kind not in self.KINDS:
            row.error("kind", _("Write member or guest."))
        address = [get(name) for name in ("postal_code", "prefecture", "city", "line1", "line2")]
        family, given = get("family_name"), get("given_name")
        phone = normalize_phone(get("phone"))
        addresses = ()
        if any(address):
            addresses = (
                AddressIn(
                    recipient_name=f"{family} {given}".strip(),
                    postal_code=normalize_postal_code(address[0]),
                    prefecture=address[1],
                    city=address[2],
                    line1=address[3],
                    line2=address[4],
                    phone=phone,
                ),
            )
        row.customer = CustomerIn(
            external_id=external_id,
            kind=kind,
            acquired_via=get("acquired_via") or ACQUIRED_VIA_IMPORT,
            family_name=family,
            given_name=given,
            family_name_kana=normalize_kana(get("family_name_kana")),
            given_name_kana=normalize_kana(get("given_name_kana")),
            email=get("email"),
            phone=phone,
            date_of_birth=self.date_of_birth(row, get, "date_of_birth"),
            addresses=addresses,
        )
        events = []
        for column, purpose in self.purpose_columns.items():
            try:
                flag = parse_flag(get(column), yes=self.FLAG_YES, no=self.FLAG_NO)
            except ValueError:
                row.error(column, _("Write yes or no (or leave it empty)."))
                continue
            if flag == YES:
                evidence = self.evidence(row, get)
                if evidence is None:
                    row.grants_without_evidence += 1
                else:
                    events.append(
                        ConsentEventIn(
                            customer_external_id=external_id,
                            purpose=purpose,
                            action="grant",
                            evidence=evidence,
                        )
                    )
            elif flag == NO:
                events.append(
                    ConsentEventIn(
                        customer_external_id=external_id,
                        purpose=purpose,
                        action="withdraw",
                        at=self.moment(row, get),
                        source=get("consent_source") or IMPORT_SOURCE,
                    )
                )
        row.consents = tuple(events)

    def moment(self, row: ParsedRow, get: Cells):
        value = get("consent_at")
        if not value:
            return None
        try:
            return parse_datetime(value)
        except ValueError:
            row.error("consent_at", _("Enter a date and time such as 2025-04-01T10:30:00+09:00."))
            return None

    def evidence(self, row: ParsedRow, get: Cells) -> Evidence | None:
        """The evidence of a grant, or None when a part of it is missing."""
        wording, wording_id = get("consent_wording"), get("consent_wording_id")
        version, source = get("consent_policy_version"), get("consent_source")
        if not (version and source and get("consent_at") and (wording or wording_id)):
            return None
        at = self.moment(row, get)
        if wording_id and not wording_id.isdigit():
            row.error("consent_wording_id", _("Enter the number of a known wording."))
            return None
        if at is None:
            return None
        return Evidence(
            policy_version=version,
            source=source,
            at=at,
            wording=wording,
            wording_id=int(wording_id) if wording_id else None,
            ip_address=get("consent_ip") or None,
            user_agent=get("consent_user_agent"),
        )
