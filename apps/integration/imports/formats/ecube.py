"""EC-CUBE 4's member CSV."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.customers.validators import normalize_kana, normalize_phone, normalize_postal_code
from apps.integration.imports.formats.base import (
    ACQUIRED_VIA_IMPORT,
    ExportFormat,
    mail_magazine_flag,
    prefecture_by_number,
    required_message,
)
from apps.integration.imports.parsing import Cells, ParsedRow
from apps.integration.ingest.types import AddressIn, CustomerIn


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
    # The plugin's label, the (ID)/(名称) pair of a dtb_csv row added for it, and the shorter
    # names shops give the column.
    MAIL_MAGAZINE = (
        "メールマガジン送付について",
        "メルマガ送付について",
        "メールマガジン送付(ID)",
        "メールマガジン送付(名称)",
        "メルマガ",
    )
    # mtb_customer_status: 1 仮会員, 2 本会員, 3 退会.
    STATUS_LEFT = ("3", "退会")
    # 1 受け取る / 0 受け取らない (EC-CUBE 4); EC-CUBE 2's 1 HTML / 2 text / 3 希望しない.
    FLAG_YES = {
        "1", "2", "受け取る", "希望する", "html", "テキスト", "text", "htmlメール", "テキストメール",
    }  # fmt: skip
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
