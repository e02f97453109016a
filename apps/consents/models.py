"""Purposes of use, the versioned policy, the append-only consent ledger with its current-state
table, cookie consent, and the third-party provision / receipt records (APPI Art. 29, 30)."""

import datetime
import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.consents.external_tags import script_host, validate_script_url
from apps.core.append_only import AppendOnlyModel
from apps.core.dates import add_years
from apps.customers.models import Customer


class Purpose(models.Model):
    """A purpose of use from the published policy."""

    class CookieCategory(models.TextChoices):
        NONE = "", _("Not a cookie purpose")
        ANALYTICS = "analytics", _("Analytics")
        ADVERTISING = "advertising", _("Advertising / remarketing")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_ja = models.TextField(_("description (Japanese)"))
    description_en = models.TextField(_("description (English)"))
    requires_opt_in = models.BooleanField(
        _("needs opt-in consent"),
        default=False,
        help_text=_("Use for this purpose only after the person said yes (e.g. mail magazines)."),
    )
    cookie_category = models.CharField(
        _("cookie category"), max_length=20, blank=True, choices=CookieCategory.choices
    )
    # Consent given under a policy version published before this one does not cover the purpose
    # as it reads now (set when a widening version is published).
    scope_version = models.ForeignKey(
        "PolicyVersion",
        verbose_name=_("current scope since version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("purpose of use")
        verbose_name_plural = _("purposes of use")
        ordering = ["sort_order", "pk"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ja").startswith("en") else self.name_ja

    @property
    def description(self) -> str:
        lang = get_language() or "ja"
        return self.description_en if lang.startswith("en") else self.description_ja


class PolicyVersion(models.Model):
    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body_ja = models.TextField(_("text (Japanese)"))
    body_en = models.TextField(_("text (English)"), blank=True)
    change_summary = models.TextField(_("what changed"), blank=True)
    widens_purposes = models.BooleanField(
        _("widens the purposes of use"),
        default=False,
        help_text=_(
            "A change beyond the scope of the old purposes: members are asked for consent "
            "again, and consent given under older versions does not cover the widened purposes."
        ),
    )
    widened_purposes = models.ManyToManyField(
        Purpose, verbose_name=_("widened purposes"), blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        ordering = ["-published_at", "-pk"]

    def __str__(self):
        return self.version

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def body(self) -> str:
        lang = get_language() or "ja"
        return self.body_en if lang.startswith("en") and self.body_en else self.body_ja


class Source(models.TextChoices):
    SIGNUP = "signup", _("Signup")
    MYPAGE = "mypage", _("My Page")
    CHECKOUT = "checkout", _("Checkout")
    ADMIN = "admin", _("Staff (admin)")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    SUBSCRIBE_FORM = "subscribe_form", _("Subscription form (confirmed by e-mail)")
    COOKIE_BANNER = "cookie_banner", _("Cookie banner")
    PRIVACY_REQUEST = "privacy_request", _("Privacy request")
    IMPORT = "import", _("Import")
    POLICY_CHANGE = "policy_change", _("Policy change")
    EMAIL_CONFIRMATION = "email_confirmation", _("E-mail address confirmed")
    # Sent by the shop's storefront or shop system through the API, where it named no place.
    STOREFRONT = "storefront", _("Shop's storefront (API)")
    # Given offline and recorded by staff (the event's actor), with the wording read or signed.
    PHONE = "phone", _("By phone (recorded by staff)")
    LETTER = "letter", _("By letter or signed form (recorded by staff)")
    SHOP_COUNTER = "shop_counter", _("At the shop counter (recorded by staff)")


OFFLINE_CHANNELS = (Source.PHONE, Source.LETTER, Source.SHOP_COUNTER)


class Wording(models.Model):
    """The exact text shown when consent was asked, stored once and referenced by its hash."""

    sha256 = models.CharField(_("SHA-256 digest"), max_length=64, unique=True)
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")

    def __str__(self):
        return self.sha256[:12]

    @staticmethod
    def hash_of(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConsentEvent(AppendOnlyModel):
    """One grant or withdrawal. Never edited, never deleted: the model refuses, the admin is
    read-only, and on PostgreSQL a trigger rejects UPDATE and DELETE on the table."""

    class Action(models.TextChoices):
        GRANT = "grant", _("Granted")
        WITHDRAW = "withdraw", _("Withdrawn")
        # Given by a member whose e-mail address is not confirmed yet: recorded as given, but
        # not in force until the address is (then a grant follows, source "email_confirmation").
        PENDING = "pending", _("Given, pending e-mail confirmation")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    visitor_id = models.UUIDField(_("visitor id"), null=True, blank=True, db_index=True)
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    policy_version = models.ForeignKey(
        PolicyVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("policy version"),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acting staff user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    wording = models.ForeignKey(
        Wording, on_delete=models.PROTECT, related_name="+", verbose_name=_("wording")
    )

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent ledger")
        ordering = ["occurred_at", "pk"]
        indexes = [models.Index(fields=["customer", "purpose", "occurred_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(visitor_id__isnull=False),
                name="consentevent_has_subject",
            )
        ]

    def __str__(self):
        at = timezone.localtime(self.occurred_at)
        return f"{self.purpose}: {self.get_action_display()} {at:%Y-%m-%d %H:%M}"


class ConsentEventContext(models.Model):
    """Where a consent event came from (IP, user agent): personal data, so kept beside the
    immutable ledger row and deleted on erasure, leaving the ledger with ids only."""

    event = models.OneToOneField(
        ConsentEvent,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="context",
        verbose_name=_("event"),
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("consent event context")
        verbose_name_plural = _("consent event contexts")

    def __str__(self):
        return _("Where the consent record came from")


class ConsentState(models.Model):
    """The current answer per person (or visitor) and purpose, updated in the same transaction
    as the ledger. No row means "never asked"."""

    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        PENDING = "pending", _("Pending confirmation")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consent_states",
        verbose_name=_("customer"),
    )
    visitor_id = models.UUIDField(_("visitor id"), null=True, blank=True)
    # No plain index on purpose: the partial index below serves every query by purpose.
    purpose = models.ForeignKey(
        Purpose,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("purpose"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    last_event = models.ForeignKey(
        ConsentEvent, on_delete=models.PROTECT, related_name="+", verbose_name=_("last event")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("consent state")
        verbose_name_plural = _("consent states")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose"],
                condition=models.Q(customer__isnull=False),
                name="consentstate_one_per_customer_purpose",
            ),
            models.UniqueConstraint(
                fields=["visitor_id", "purpose"],
                condition=models.Q(visitor_id__isnull=False, customer__isnull=True),
                name="consentstate_one_per_visitor_purpose",
            ),
        ]
        indexes = [
            # "Who may we use for purpose P now": an index-only scan over the granted rows.
            models.Index(
                fields=["purpose", "customer"],
                condition=models.Q(status="granted", customer__isnull=False),
                name="consentstate_granted_idx",
            ),
        ]

    def __str__(self):
        return f"{self.purpose}: {self.get_status_display()}"

    @property
    def awaits_email_confirmation(self) -> bool:
        """Given by the member, in force once their e-mail address is confirmed."""
        return self.status == self.Status.PENDING and (
            self.last_event.action == ConsentEvent.Action.PENDING
        )


class PersonRestriction(models.Model):
    """A person's stop of use / stop of third-party provision (APPI Art. 35). Selectors and the
    provision service obey it."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="restriction", verbose_name=_("customer")
    )
    stop_use = models.BooleanField(_("stop of use"), default=False)
    stop_provision = models.BooleanField(_("stop of third-party provision"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("use restriction")
        verbose_name_plural = _("use restrictions")

    def __str__(self):
        return _("Restriction of customer No. %s") % f"{self.customer_id or 0:06d}"


class VisitorLink(models.Model):
    """A cookie-banner visitor id that turned out to be a member (linked at login)."""

    visitor_id = models.UUIDField(_("visitor id"), unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visitor link")
        verbose_name_plural = _("visitor links")

    def __str__(self):
        return _("Browser linked to customer No. %s") % f"{self.customer_id or 0:06d}"


class ExternalTag(models.Model):
    """An external tag (analytics, remarketing) and what it sends to whom: listed publicly on
    /privacy/cookies/ and rendered only after consent for its category."""

    class Category(models.TextChoices):
        NECESSARY = "necessary", _("Necessary")
        ANALYTICS = "analytics", _("Analytics")
        ADVERTISING = "advertising", _("Advertising / remarketing")

    name = models.CharField(_("name"), max_length=100)
    recipient = models.CharField(_("recipient (company, country)"), max_length=200)
    data_sent = models.TextField(_("data sent"))
    purpose = models.TextField(_("purpose"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    script_url = models.URLField(
        _("script URL"),
        max_length=500,
        blank=True,
        validators=[validate_script_url],
        help_text=_(
            "An https address on a host of the allow-list (EXTERNAL_TAG_ALLOWED_HOSTS). The site "
            "loads it as a script only for visitors who consented to the category. Empty: the "
            "tag is listed but loads nothing."
        ),
    )
    staff_note = models.TextField(_("note for staff"), blank=True)
    opt_out_url = models.URLField(_("opt-out page"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("external tag")
        verbose_name_plural = _("external tags")
        ordering = ["category", "name"]

    def __str__(self):
        return self.name

    @property
    def script_host(self) -> str:
        return script_host(self.script_url)


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


class Contractor(models.Model):
    """A consignee (業務委託先): who receives what, why, and under which safeguards."""

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    country = models.CharField(_("country where data is handled"), max_length=100, default="日本")
    data_items = models.TextField(_("data items received"))
    purpose = models.TextField(_("why they receive it"))
    safeguards = models.TextField(_("contract safeguards"))
    contract_signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contractor (consignee)")
        verbose_name_plural = _("contractors (consignees)")
        ordering = ["name"]

    def __str__(self):
        return self.name


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


def new_visitor_id() -> uuid.UUID:
    return uuid.uuid4()
