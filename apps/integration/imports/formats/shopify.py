"""Shopify's customer CSV export."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.customers.validators import normalize_phone, normalize_postal_code
from apps.integration.imports.formats.base import (
    ACQUIRED_VIA_IMPORT,
    ExportFormat,
    mail_magazine_flag,
    prefecture_by_number,
    required_message,
)
from apps.integration.imports.parsing import Cells, ParsedRow
from apps.integration.ingest.types import AddressIn, CustomerIn


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
