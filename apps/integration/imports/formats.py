"""The three file formats: EC-CUBE 4's member CSV, Shopify's customer CSV, our generic CSV.

Each maps its columns onto ``CustomerIn`` (with one address) and ``ConsentEventIn``s. The
mail-magazine flag of EC-CUBE and Shopify's "Accepts Email Marketing" carry no evidence (no
wording shown, no policy version, no time): a "yes" there is never turned into a grant, only
counted (``grants_without_evidence``); a "no" is a withdrawal and is applied. Only the generic
format, with its evidence columns filled in, can record a grant.

Columns a shop system exports that the back office does not keep (EC-CUBE's sex, job, company,
purchase totals, points, shop memo; Shopify's tags, note, totals, SMS flag) are not read: the
import takes only what the product uses (data minimisation).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.customers.validators import (
    PREFECTURES,
    normalize_kana,
    normalize_phone,
    normalize_postal_code,
)
from apps.integration.imports.parsing import (
    NO,
    YES,
    Cells,
    ImportFileError,
    ParsedRow,
    cells_getter,
    header_of,
    parse_date,
    parse_datetime,
    parse_flag,
    read_rows,
    sniff_encoding,
)
from apps.integration.ingest.types import AddressIn, ConsentEventIn, CustomerIn, Evidence

# The purpose a mail-magazine flag speaks for (apps/consents' seeded purposes).
MAIL_MAGAZINE_PURPOSE = "newsletter"
# Consents learnt from a file are recorded with this source (apps.consents.models.Source).
IMPORT_SOURCE = "import"
ACQUIRED_VIA_IMPORT = "import"


def required_message() -> str:
    return _("This column is required.")


class ExportFormat:
    code: ClassVar[str]
    label: ClassVar[str]
    # Encodings to try on the header line, in order.
    encodings: ClassVar[tuple[str, ...]]
    # How the expected encoding is named in messages.
    describe: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    # Our field names (as the ingest services report errors) -> the file's column.
    columns: ClassVar[dict[str, str]] = {}

    def __init__(self, *, purposes: set[str] | None = None) -> None:
        # The purpose codes that exist (for the generic format's consent columns).
        self.purposes = purposes

    def column_for(self, field: str) -> str:
        """The file's column for an error the services report on ``field`` ("email",
        "addresses.0.postal_code", "evidence.policy_version")."""
        for part in (field, field.rsplit(".", 1)[-1]):
            if part in self.columns:
                return self.columns[part]
        return field

    # ------------------------------------------------------------------ reading

    def rows(self, raw: BinaryIO) -> Iterator[ParsedRow]:
        encoding = sniff_encoding(raw, self.encodings)
        header = header_of(raw, encoding)
        if not header or header == [""]:
            if header is None:
                raise ImportFileError(self._not_this_format(raw, missing=None))
            raise ImportFileError(_("The file is empty."))
        missing = [column for column in self.required if column not in header]
        if missing:
            raise ImportFileError(self._not_this_format(raw, missing=missing))
        self.check_header(header)
        # The first occurrence of a repeated column name wins.
        index = {name: position for position, name in reversed(list(enumerate(header)))}
        lines = read_rows(raw, encoding, describe=self.describe)
        next(lines)
        for line, cells in lines:
            if not any(cell.strip() for cell in cells):
                continue
            row = ParsedRow(line=line)
            self.parse_row(row, cells_getter(index, cells))
            if row.errors or row.skipped:
                row.customer, row.consents = None, ()
            yield row

    def check_header(self, header: list[str]) -> None:
        """Refuse a header that is this format's but cannot be imported as it is."""

    def parse_row(self, row: ParsedRow, get: Cells) -> None:
        raise NotImplementedError

    def _not_this_format(self, raw: BinaryIO, *, missing: list[str] | None) -> str:
        if missing is None:
            message = _("The file's first line cannot be read as %(encoding)s.") % {
                "encoding": self.describe
            }
        else:
            message = _("This is not %(format)s: the columns %(columns)s are missing.") % {
                "format": self.label,
                "columns": ", ".join(missing),
            }
        for other in FORMATS.values():
            if other is type(self):
                continue
            header = header_of(raw, sniff_encoding(raw, other.encodings))
            if header and all(column in header for column in other.required):
                return (
                    message
                    + " "
                    + _("It looks like %(format)s: choose that format.") % {"format": other.label}
                )
        return (
            message
            + " "
            + _("Check the format you chose, and that the file starts with its header line.")
        )

    # ------------------------------------------------------------------ shared pieces

    @staticmethod
    def date_of_birth(row: ParsedRow, get: Cells, column: str):
        value = get(column)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError:
            row.error(column, _("Enter a date such as 1990-04-01."))
            return None


def prefecture_by_number(value: str) -> str | None:
    """'13', 'JP-13' -> 東京都 (JIS X 0401 order, as EC-CUBE's mtb_pref and ISO 3166-2:JP)."""
    match = re.fullmatch(r"(?:JP-)?(\d{1,2})", unicodedata.normalize("NFKC", value).upper())
    if match and 1 <= int(match.group(1)) <= len(PREFECTURES):
        return PREFECTURES[int(match.group(1)) - 1]
    return None


class EcCubeFormat(ExportFormat):
    """EC-CUBE 4's member CSV (会員管理 > 会員一覧 > CSVダウンロード), with the column names of
    its ``dtb_csv`` seed (csv_type 2, 会員CSV) and the mail-magazine flag of the MailMagazine
    plugin (``plg_mailmagazine_flg``: 1 受け取る / 0 受け取らない) when the shop added it to
    the export. EC-CUBE writes it in SJIS-win (cp932) with dates as 'Y-m-d H:i:s'; a shop that
    switched its export to UTF-8 is read as UTF-8."""

    code = "ecube"
    label = gettext_lazy("EC-CUBE 4 member CSV")
    encodings = ("utf-8", "cp932")
    describe = "Shift_JIS (cp932)"

    ID = "会員ID"
    FAMILY_NAME = "お名前(姓)"
    GIVEN_NAME = "お名前(名)"
    FAMILY_KANA = "お名前(セイ)"
    GIVEN_KANA = "お名前(メイ)"
    POSTAL_CODE = "郵便番号"
    PREFECTURE_ID = "都道府県(ID)"
    PREFECTURE_NAME = "都道府県(名称)"
    ADDRESS1 = "住所1"
    ADDRESS2 = "住所2"
    EMAIL = "メールアドレス"
    PHONE = "TEL"
    BIRTH = "誕生日"
    STATUS_ID = "会員ステータス(ID)"
    STATUS_NAME = "会員ステータス(名称)"
    # The plugin's label, and the shorter names shops give the column.
    MAIL_MAGAZINE = ("メールマガジン送付について", "メルマガ送付について", "メルマガ")
    # mtb_customer_status: 1 仮会員, 2 本会員, 3 退会.
    STATUS_LEFT = ("3", "退会")
    # 1 受け取る / 0 受け取らない (EC-CUBE 4); EC-CUBE 2's 1 HTML / 2 text / 3 希望しない.
    FLAG_YES = {"1", "2", "受け取る", "希望する", "html", "テキスト", "text"}
    FLAG_NO = {"0", "3", "受け取らない", "希望しない"}

    required = (ID, FAMILY_NAME, GIVEN_NAME, EMAIL)
    columns = {
        "external_id": ID,
        "family_name": FAMILY_NAME,
        "given_name": GIVEN_NAME,
        "family_name_kana": FAMILY_KANA,
        "given_name_kana": GIVEN_KANA,
        "email": EMAIL,
        "phone": PHONE,
        "date_of_birth": BIRTH,
        "postal_code": POSTAL_CODE,
        "prefecture": PREFECTURE_NAME,
        "city": ADDRESS1,
        "line1": ADDRESS2,
        "recipient_name": FAMILY_NAME,
    }

    def check_header(self, header: list[str]) -> None:
        self.flag_column = next((c for c in self.MAIL_MAGAZINE if c in header), None)
        if self.PREFECTURE_NAME not in header and self.PREFECTURE_ID in header:
            self.columns = {**self.columns, "prefecture": self.PREFECTURE_ID}
        if self.flag_column:
            self.columns = {**self.columns, "purpose": self.flag_column}

    def parse_row(self, row: ParsedRow, get: Cells) -> None:
        external_id = get(self.ID)
        if not external_id:
            row.error(self.ID, required_message())
            return
        row.external_id = external_id
        if get(self.STATUS_ID) in self.STATUS_LEFT or get(self.STATUS_NAME) in self.STATUS_LEFT:
            # A member who left the shop: their data is not taken in.
            row.skipped = "left"
            return
        family, given = get(self.FAMILY_NAME), get(self.GIVEN_NAME)
        phone = normalize_phone(get(self.PHONE))
        prefecture = get(self.PREFECTURE_NAME)
        if not prefecture and get(self.PREFECTURE_ID):
            prefecture = prefecture_by_number(get(self.PREFECTURE_ID)) or ""
            if not prefecture:
                row.error(self.PREFECTURE_ID, _("Enter a prefecture number from 1 to 47."))
        addresses = ()
        postal_code, city, line1 = get(self.POSTAL_CODE), get(self.ADDRESS1), get(self.ADDRESS2)
        if postal_code or prefecture or city or line1:
            addresses = (
                AddressIn(
                    recipient_name=f"{family} {given}".strip(),
                    postal_code=normalize_postal_code(postal_code),
                    prefecture=prefecture,
                    city=city,
                    line1=line1,
                    phone=phone,
                ),
            )
        row.customer = CustomerIn(
            external_id=external_id,
            kind="member",
            acquired_via=ACQUIRED_VIA_IMPORT,
            family_name=family,
            given_name=given,
            family_name_kana=normalize_kana(get(self.FAMILY_KANA)),
            given_name_kana=normalize_kana(get(self.GIVEN_KANA)),
            email=get(self.EMAIL),
            phone=phone,
            date_of_birth=self.date_of_birth(row, get, self.BIRTH),
            addresses=addresses,
        )
        if self.flag_column:
            mail_magazine_flag(row, get, self.flag_column, yes=self.FLAG_YES, no=self.FLAG_NO)


def mail_magazine_flag(row: ParsedRow, get: Cells, column: str, *, yes, no) -> None:
    """A flag without evidence: "no" withdraws, "yes" is only counted."""
    try:
        flag = parse_flag(get(column), yes=yes, no=no)
    except ValueError:
        row.error(column, _("Write yes or no (or leave it empty)."))
        return
    if flag == YES:
        row.grants_without_evidence += 1
    elif flag == NO:
        row.consents = (
            ConsentEventIn(
                customer_external_id=row.external_id,
                purpose=MAIL_MAGAZINE_PURPOSE,
                action="withdraw",
                source=IMPORT_SOURCE,
            ),
        )


class ShopifyFormat(ExportFormat):
    """Shopify's customer export (Customers > Export, "CSV for Excel, Numbers, or other
    spreadsheet programs" or plain CSV), UTF-8. Shopify writes the customer id with a leading
    apostrophe so spreadsheets keep its digits; Japanese provinces come as ISO codes (JP-13).
    A default address outside Japan is not imported (the back office's addresses are Japanese);
    the person is. The export does not tell account holders from guests: people come in as
    guests."""

    code = "shopify"
    label = gettext_lazy("Shopify customer CSV")
    encodings = ("utf-8",)
    describe = "UTF-8"

    ID = "Customer ID"
    FIRST_NAME = "First Name"
    LAST_NAME = "Last Name"
    EMAIL = "Email"
    ACCEPTS_EMAIL = "Accepts Email Marketing"
    ADDRESS1 = "Default Address Address1"
    ADDRESS2 = "Default Address Address2"
    CITY = "Default Address City"
    PROVINCE_CODE = "Default Address Province Code"
    COUNTRY_CODE = "Default Address Country Code"
    ZIP = "Default Address Zip"
    ADDRESS_PHONE = "Default Address Phone"
    PHONE = "Phone"
    FLAG_YES = {"yes", "true", "1"}
    FLAG_NO = {"no", "false", "0"}

    required = (ID, EMAIL)
    columns = {
        "external_id": ID,
        "family_name": LAST_NAME,
        "given_name": FIRST_NAME,
        "email": EMAIL,
        "phone": PHONE,
        "postal_code": ZIP,
        "prefecture": PROVINCE_CODE,
        "city": CITY,
        "line1": ADDRESS1,
        "line2": ADDRESS2,
        "recipient_name": LAST_NAME,
        "purpose": ACCEPTS_EMAIL,
    }

    def check_header(self, header: list[str]) -> None:
        self.has_flag = self.ACCEPTS_EMAIL in header

    def parse_row(self, row: ParsedRow, get: Cells) -> None:
        external_id = get(self.ID).lstrip("'")
        if not external_id:
            row.error(self.ID, required_message())
            return
        row.external_id = external_id
        family, given = get(self.LAST_NAME), get(self.FIRST_NAME)
        addresses = ()
        country = get(self.COUNTRY_CODE).upper()
        fields = (get(self.ZIP), get(self.PROVINCE_CODE), get(self.CITY), get(self.ADDRESS1))
        if country in ("", "JP") and any(fields):
            prefecture = prefecture_by_number(get(self.PROVINCE_CODE)) if fields[1] else ""
            if prefecture is None:
                row.error(self.PROVINCE_CODE, _("Enter a Japanese province code such as JP-13."))
                prefecture = ""
            addresses = (
                AddressIn(
                    recipient_name=f"{family} {given}".strip(),
                    postal_code=normalize_postal_code(get(self.ZIP)),
                    prefecture=prefecture,
                    city=get(self.CITY),
                    line1=get(self.ADDRESS1),
                    line2=get(self.ADDRESS2),
                    phone=normalize_phone(get(self.ADDRESS_PHONE)),
                ),
            )
        row.customer = CustomerIn(
            external_id=external_id,
            kind="guest",
            acquired_via=ACQUIRED_VIA_IMPORT,
            family_name=family,
            given_name=given,
            email=get(self.EMAIL),
            phone=normalize_phone(get(self.PHONE)),
            addresses=addresses,
        )
        if self.has_flag:
            mail_magazine_flag(row, get, self.ACCEPTS_EMAIL, yes=self.FLAG_YES, no=self.FLAG_NO)


class GenericFormat(ExportFormat):
    """Our own UTF-8 CSV, documented in docs/integration/imports.md. A ``consent_<purpose>``
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


FORMATS: dict[str, type[ExportFormat]] = {
    EcCubeFormat.code: EcCubeFormat,
    ShopifyFormat.code: ShopifyFormat,
    GenericFormat.code: GenericFormat,
}
