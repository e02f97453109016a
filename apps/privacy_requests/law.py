"""The rules of law a request is handled under, kept apart from the models that store it: which
countries bring in the GDPR, and the grounds of APPI Art. 35."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# GDPR Art. 3(2) reaches people in the EU and, through the EEA Agreement, Iceland, Liechtenstein
# and Norway (ISO 3166-1 alpha-2, as Address.country holds them).
EEA_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
        *("IS", "LI", "NO"),
    }
)


class Art35Ground(models.TextChoices):
    """APPI Art. 35 (as amended in 2022): why a person may ask for a stop of use, an erasure or
    a stop of provision."""

    NONE = "", _("Not given")
    # Art. 35(1), (3): handled against Art. 18, 19 (beyond the purpose, improperly) or provided
    # against Art. 27(1), 28.
    UNLAWFUL_USE = "unlawful_use", _("Used or provided unlawfully (Art. 18, 19, 27, 28)")
    # Art. 35(1): acquired against Art. 20.
    IMPROPER_ACQUISITION = "improper_acquisition", _("Acquired improperly (Art. 20)")
    # Art. 35(5): the rest since 2022.
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed by the shop")
    BREACH = "breach", _("Concerned by a reportable breach (Art. 26)")
    HARM_TO_RIGHTS = "harm_to_rights", _("Handling likely to harm the person's rights or interests")


ART35_KINDS = {"stop_of_use", "erasure", "stop_of_provision"}
