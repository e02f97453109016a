"""Third-party provision and receipt records (APPI Art. 29, 30), with the recipient's country
for provision abroad (Art. 28), and the register of contractors (consignees) the shop supervises
(Art. 25). Imported by ``apps.consents.models``, where the rest of the app's models live."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.consents import transfers
from apps.core.dates import add_months, add_years
from apps.customers.models import Customer


def three_years_from_today() -> datetime.date:
    return add_years(timezone.localdate(), 3)


class ProvisionRecord(models.Model):
    """A provision of personal data to a third party (APPI Art. 29 record), kept 3 years."""

    class Basis(models.TextChoices):
        CONSENT = "consent", _("The person's consent")
        CONSIGNMENT = "consignment", _("Consignment to a contractor")
        POLICE = "police", _("Inquiry from the police (Code of Criminal Procedure Art. 197(2))")
        COURT = "court", _("Court order or inquiry")
        BAR_ASSOCIATION = "bar", _("Lawyers' association inquiry (Attorney Act Art. 23-2)")

    LEGAL_BASES = (Basis.POLICE, Basis.COURT, Basis.BAR_ASSOCIATION)

    recipient_name = models.CharField(_("recipient"), max_length=200)
    recipient_address = models.CharField(_("recipient address"), max_length=300)
    recipient_representative = models.CharField(
        _("recipient representative"), max_length=200, blank=True
    )
    contractor = models.ForeignKey(
        "Contractor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provisions",
        verbose_name=_("contractor"),
    )
    # APPI Art. 28: a recipient abroad carries its country, that country's protection system and
    # the recipient's measures (apps/consents/transfers.py).
    recipient_country = models.CharField(
        _("recipient's country (ISO code)"),
        max_length=2,
        default=transfers.HOME_COUNTRY,
        validators=[transfers.validate_country_code],
    )
    country_system = models.TextField(
        _("personal-information protection system of that country"), blank=True
    )
    recipient_measures = models.TextField(
        _("measures the recipient takes to protect personal information"), blank=True
    )
    provided_on = models.DateField(_("provided on"), default=timezone.localdate)
    customers = models.ManyToManyField(
        Customer, verbose_name=_("people concerned"), related_name="provision_records"
    )
    data_items = models.TextField(_("data items provided"))
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    legal_reference = models.CharField(
        _("reference of the inquiry / order"), max_length=200, blank=True
    )
    retain_until = models.DateField(_("keep until"), default=three_years_from_today)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("third-party provision record")
        verbose_name_plural = _("third-party provision records")
        ordering = ["-provided_on", "-pk"]

    def __str__(self):
        return _("Provision to %(recipient)s on %(date)s") % {
            "recipient": self.recipient_name,
            "date": self.provided_on,
        }

    def clean(self):
        errors = transfers.foreign_transfer_errors(
            country=self.recipient_country,
            country_system=self.country_system,
            recipient_measures=self.recipient_measures,
            measures_field="recipient_measures",
        )
        if errors:
            raise ValidationError(errors)

    @property
    def is_foreign(self) -> bool:
        return transfers.is_foreign(self.recipient_country)


class ConsignedData(models.TextChoices):
    """Categories of personal data a contractor is consigned (for supervision and filtering)."""

    IDENTITY = "identity", _("name and kana")
    CONTACT = "contact", _("e-mail and phone")
    ADDRESS = "address", _("postal addresses")
    ORDERS = "orders", _("orders and shipping")
    PAYMENT = "payment", _("payment details")
    CONSENTS = "consents", _("consents and subscriptions")
    ONLINE_IDS = "online_ids", _("cookies, device and advertising ids")


class Contractor(models.Model):
    """A consignee (業務委託先): who receives what, why, and under which safeguards.

    APPI Art. 25 makes the shop supervise its consignees: the register keeps when each was last
    reviewed and when its contract ends, and a review older than CONTRACTOR_REVIEW_MONTHS (or a
    contract that has ended while the contractor is still active) stands out in the admin."""

    class Supervision(models.TextChoices):
        OK = "ok", _("Reviewed")
        REVIEW_OVERDUE = "review_overdue", _("Review overdue")
        CONTRACT_ENDED = "contract_ended", _("Contract ended")
        INACTIVE = "inactive", _("No longer used")

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    country = models.CharField(
        _("country where data is handled (ISO code)"),
        max_length=2,
        default=transfers.HOME_COUNTRY,
        validators=[transfers.validate_country_code],
    )
    country_system = models.TextField(
        _("personal-information protection system of that country"),
        blank=True,
        help_text=_("Required for a contractor abroad (APPI Art. 28(2)), with the safeguards."),
    )
    data_items = models.TextField(_("data items received"))
    data_categories = models.JSONField(_("categories of data consigned"), default=list, blank=True)
    purpose = models.TextField(_("why they receive it"))
    safeguards = models.TextField(
        _("contract safeguards"),
        help_text=_("For a contractor abroad: the measures it takes to protect personal data."),
    )
    contract_signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    contract_ends_on = models.DateField(_("contract ends on"), null=True, blank=True)
    last_reviewed_on = models.DateField(_("last supervision review"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contractor (consignee)")
        verbose_name_plural = _("contractors (consignees)")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = transfers.foreign_transfer_errors(
            country=self.country,
            country_system=self.country_system,
            recipient_measures=self.safeguards,
            measures_field="safeguards",
        )
        unknown = set(self.data_categories or []) - set(ConsignedData.values)
        if not isinstance(self.data_categories, list) or unknown:
            errors["data_categories"] = _("Choose the categories from the list.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_foreign(self) -> bool:
        return transfers.is_foreign(self.country)

    def review_due_on(self) -> datetime.date | None:
        if self.last_reviewed_on is None:
            return None
        return add_months(self.last_reviewed_on, settings.CONTRACTOR_REVIEW_MONTHS)

    def supervision(self, *, today: datetime.date | None = None) -> str:
        today = today or timezone.localdate()
        if not self.is_active:
            return self.Supervision.INACTIVE
        if self.contract_ends_on is not None and self.contract_ends_on < today:
            return self.Supervision.CONTRACT_ENDED
        due = self.review_due_on()
        if due is None or due < today:
            return self.Supervision.REVIEW_OVERDUE
        return self.Supervision.OK


class ReceiptRecord(models.Model):
    """Personal data received from a third party (APPI Art. 30 confirmation record)."""

    provider_name = models.CharField(_("provider"), max_length=200)
    provider_address = models.CharField(_("provider address"), max_length=300)
    provider_representative = models.CharField(
        _("provider representative"), max_length=200, blank=True
    )
    how_acquired = models.TextField(_("how the provider acquired the data"))
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    data_items = models.TextField(_("data items received"))
    customers = models.ManyToManyField(
        Customer, verbose_name=_("people concerned"), blank=True, related_name="receipt_records"
    )
    retain_until = models.DateField(_("keep until"), default=three_years_from_today)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt record (data from third parties)")
        verbose_name_plural = _("receipt records (data from third parties)")
        ordering = ["-received_on", "-pk"]

    def __str__(self):
        return _("Receipt from %(provider)s on %(date)s") % {
            "provider": self.provider_name,
            "date": self.received_on,
        }
