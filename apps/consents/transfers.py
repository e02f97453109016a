"""Provision to a recipient in a foreign country (APPI Art. 28), as plain functions.

Art. 28(1): personal data goes to a third party in a foreign country only with the person's
consent to provision to a recipient *in a foreign country*, unless the country is one the PPC
recognises as equivalent (the EU/EEA and the UK) or the recipient keeps a system meeting the
PPC's standards (then Art. 28(3): the shop takes the necessary measures and tells the person
about them on request). Consignment to a contractor abroad is such a provision too.

Art. 28(2) with Enforcement Rules Art. 17(2): when asking for that consent the shop tells the
person (1) the name of the country, (2) the personal-information protection system of that
country, found by an appropriate and reasonable method, and (3) the measures the recipient
takes to protect personal information. A recipient abroad therefore always carries the three,
and consent given on wording that does not name them does not cover the provision.

Countries are ISO 3166-1 alpha-2 codes (as ``customers.Address.country`` is); "XX" (a code ISO
leaves to users) marks a country not yet known, which counts as foreign until staff set it.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

HOME_COUNTRY = "JP"
UNKNOWN_COUNTRY = "XX"

# Names for the countries a Japanese shop's recipients are usually in; any other valid code is
# shown as the code itself.
COUNTRY_NAMES = {
    "JP": _("Japan"),
    "US": _("United States"),
    "SG": _("Singapore"),
    "IE": _("Ireland"),
    "DE": _("Germany"),
    "FR": _("France"),
    "NL": _("Netherlands"),
    "GB": _("United Kingdom"),
    "KR": _("South Korea"),
    "CN": _("China"),
    "TW": _("Taiwan"),
    "HK": _("Hong Kong"),
    "AU": _("Australia"),
    "CA": _("Canada"),
    "IN": _("India"),
    "VN": _("Vietnam"),
    "PH": _("Philippines"),
    UNKNOWN_COUNTRY: _("Unknown (to be set)"),
}

_CODE = re.compile(r"^[A-Z]{2}$")


def validate_country_code(value: str) -> None:
    if not _CODE.match(value or ""):
        raise ValidationError(
            _("Give the country as its two-letter ISO code (JP, US, SG, …)."), code="country"
        )


def country_name(code: str) -> str:
    """The country's name in the active language, or its code where we have no name for it."""
    name = COUNTRY_NAMES.get(code)
    return str(name) if name is not None else code


def is_foreign(country: str) -> bool:
    return country != HOME_COUNTRY


def foreign_transfer_errors(
    *, country: str, country_system: str, recipient_measures: str, measures_field: str
) -> dict[str, str]:
    """What a recipient abroad lacks of the three facts Art. 28(2) makes the shop tell."""
    if not is_foreign(country):
        return {}
    errors = {}
    if not (country_system or "").strip():
        errors["country_system"] = gettext(
            "A recipient abroad needs the personal-information protection system of its "
            "country (APPI Art. 28(2))."
        )
    if not (recipient_measures or "").strip():
        errors[measures_field] = gettext(
            "A recipient abroad needs the measures it takes to protect personal information "
            "(APPI Art. 28(2))."
        )
    return errors


def foreign_transfer_wording(
    *, recipient: str, country: str, country_system: str, recipient_measures: str
) -> str:
    """The sentence to show when asking consent to provision to this recipient abroad: it names
    what Art. 28(2) requires, so consent given on it passes ``foreign_wording_covers``."""
    return gettext(
        "Your personal data will be provided to %(recipient)s in %(country)s. "
        "The personal-information protection system of %(country)s: %(system)s. "
        "Measures %(recipient)s takes to protect personal information: %(measures)s."
    ) % {
        "recipient": recipient,
        "country": country_name(country),
        "system": country_system.strip(),
        "measures": recipient_measures.strip(),
    }


def foreign_wording_covers(
    *, wording: str, country: str, country_system: str, recipient_measures: str
) -> bool:
    """Whether consent given on ``wording`` was informed as Art. 28(2) requires for this
    recipient: the country (by code or name), its system and the recipient's measures."""
    if not is_foreign(country):
        return True
    names = {country}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            names.add(str(COUNTRY_NAMES.get(country, country)))
    names_country = any(name and name in wording for name in names)
    return (
        names_country
        and bool(country_system.strip())
        and country_system.strip() in wording
        and bool(recipient_measures.strip())
        and recipient_measures.strip() in wording
    )
