from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.customers.validators import (
    PREFECTURE_CHOICES,
    validate_date_of_birth,
    validate_jp_postal_code,
    validate_katakana,
    validate_phone,
    validate_prefecture,
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A login, for members and staff alike. The e-mail is unique whatever its case."""

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # When the owner of the address proved it by clicking a link sent to it. Until then no
    # marketing consent of the member is effective (see apps/customers/services.py).
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return _("Login No. %(number)s") % {"number": f"{self.pk or 0:06d}"}

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Session(AbstractBaseSession):
    """Django's database session plus the id of the login it is signed in to (none for a
    visitor), so that an erasure or a password change ends a person's sessions with one indexed
    DELETE instead of decoding every session in the shop. Written by
    ``apps.customers.sessions.SessionStore`` (SESSION_ENGINE)."""

    user_id = models.BigIntegerField(_("login id"), null=True, db_index=True)

    class Meta(AbstractBaseSession.Meta):
        db_table = "customers_session"

    @classmethod
    def get_session_store_class(cls):
        from apps.customers.sessions import SessionStore

        return SessionStore


class EmailConfirmation(models.Model):
    """A link sent to an address that will become (or already is) a login's e-mail: at signup,
    when the member changes it on My Page, or when an approved correction request changes it.
    The login moves only when the link is clicked. The token is a signature of this row's id
    (nothing of it is stored, nothing personal is in it); only the newest row of a login is
    valid, and only once, for ``EMAIL_CONFIRMATION_HOURS``."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Signup")
        CHANGE = "change", _("Change on My Page")
        CORRECTION = "correction", _("Correction request")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="email_confirmations", verbose_name=_("login")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    email = models.EmailField(_("address to confirm"), max_length=254)
    # Where the notice of a change goes once it is made (the address it replaces).
    previous_email = models.EmailField(_("previous address"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail confirmation")
        verbose_name_plural = _("e-mail confirmations")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return _("%(kind)s, sent %(date)s") % {
            "kind": self.get_kind_display(),
            "date": f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}",
        }


class Customer(models.Model):
    """One person the shop knows: a member (with a login) or a guest purchaser."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESTRICTED = "restricted", _("Restricted (terms violation)")
        ERASED = "erased", _("Erased")

    class AcquiredVia(models.TextChoices):
        SIGNUP = "signup", _("Member signup")
        PURCHASE = "purchase", _("Guest purchase")
        INQUIRY = "inquiry", _("Inquiry")
        SNS_LOGIN = "sns_login", _("SNS login")
        IMPORT = "import", _("Import")
        # A visitor who asked for a mail magazine (and confirmed it by e-mail).
        SUBSCRIPTION = "subscription", _("Mail magazine subscription")

    user = models.OneToOneField(
        User,
        verbose_name=_("login"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
    )
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name_kana = models.CharField(
        _("family name (kana)"), max_length=100, blank=True, validators=[validate_katakana]
    )
    given_name_kana = models.CharField(
        _("given name (kana)"), max_length=100, blank=True, validators=[validate_katakana]
    )
    date_of_birth = models.DateField(
        _("date of birth"), null=True, blank=True, validators=[validate_date_of_birth]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("contact e-mail"), blank=True)
    acquired_via = models.CharField(
        _("acquired via"), max_length=20, choices=AcquiredVia.choices, default=AcquiredVia.SIGNUP
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    restriction_reason = models.TextField(_("restriction reason"), blank=True)
    restricted_at = models.DateTimeField(_("restricted at"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["status"]),
            models.Index(Lower("email"), name="customer_email_ci_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="restricted") | ~models.Q(restriction_reason=""),
                name="customer_restriction_has_reason",
            ),
        ]

    def __str__(self):
        # The member number, never the name: __str__ ends up in logs, admin history and pages
        # of roles that may not see names (Marketing).
        return _("Customer No. %(number)s") % {"number": self.number}

    @property
    def number(self) -> str:
        """The number staff read out and search for: the id, zero-padded."""
        return f"{self.pk or 0:06d}"

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()

    @property
    def is_member(self) -> bool:
        return self.user_id is not None


class Address(models.Model):
    """A shipping address. Japanese addresses have a validated postal code and prefecture."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(_("label"), max_length=50, blank=True)
    recipient_name = models.CharField(_("recipient name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, default="JP")
    postal_code = models.CharField(_("postal code"), max_length=16)
    prefecture = models.CharField(
        _("prefecture / region"), max_length=50, blank=True, choices=PREFECTURE_CHOICES
    )
    city = models.CharField(_("city, ward, town"), max_length=100)
    line1 = models.CharField(_("street and number"), max_length=200)
    line2 = models.CharField(_("building, room"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True),
                name="address_one_default_per_customer",
            ),
        ]

    def __str__(self):
        return _("Address of customer No. %(number)s") % {"number": f"{self.customer_id or 0:06d}"}

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.country == "JP":
            for field_name, validator in (
                ("postal_code", validate_jp_postal_code),
                ("prefecture", validate_prefecture),
            ):
                try:
                    validator(getattr(self, field_name))
                except ValidationError as exc:
                    errors[field_name] = exc.messages
        if errors:
            raise ValidationError(errors)

    @property
    def one_line(self) -> str:
        parts = [f"〒{self.postal_code}" if self.country == "JP" else self.postal_code]
        parts += [self.prefecture, self.city, self.line1, self.line2]
        return " ".join(p for p in parts if p)


class Inquiry(models.Model):
    """A message from the public /contact/ form. Staff can turn one into a privacy request."""

    class Topic(models.TextChoices):
        ORDER = "order", _("An order")
        PRODUCT = "product", _("A product")
        PRIVACY = "privacy", _("My personal data (disclosure, correction, deletion, …)")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    message = models.TextField(_("message"), max_length=5000)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="new")
    acknowledged_at = models.DateTimeField(_("acknowledgement sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-created_at"]

    def __str__(self):
        return _("Inquiry received %(date)s") % {
            "date": f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
            if self.created_at
            else "-"
        }
