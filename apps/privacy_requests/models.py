from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Customer, Inquiry
from apps.privacy_requests.choices import (  # noqa: F401 (imported from here by the app)
    CHANGE_KINDS,
    CLOSED_STATUSES,
    DISCLOSURE_KINDS,
    DUE_SOON_DAYS,
    ERASURE_KINDS,
    FEE_KINDS,
    GDPR_ONLY_KINDS,
    OPEN_STATUSES,
    RESTRICTION_KINDS,
    Channel,
    DisclosureForm,
    FeeStatus,
    IdentityMethod,
    Kind,
    Law,
    Outcome,
    RequesterType,
    Status,
)
from apps.privacy_requests.law import Art35Ground
from apps.privacy_requests.storage import private_storage


class ReferenceSequence(models.Model):
    """One counter per year for readable references; its row lock serialises numbering."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self):
        return _("%(year)s: %(count)s references issued") % {
            "year": self.year,
            "count": self.last_number,
        }


class PrivacyRequest(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    law = models.CharField(_("law"), max_length=10, choices=Law.choices, default=Law.APPI)
    # Staff's record that the person is in the EU/EEA when no address on file says so (a letter
    # from Germany, a phone call): it makes the GDPR apply as well.
    in_eea = models.BooleanField(_("person in the EU/EEA (recorded by staff)"), default=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    requester_type = models.CharField(
        _("requester"), max_length=30, choices=RequesterType.choices, default=RequesterType.PERSON
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    # The person the request is about. Empty when nobody on file matches (answer: no data held).
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="privacy_requests",
    )
    inquiry = models.ForeignKey(
        Inquiry,
        verbose_name=_("from inquiry"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Contact details for the answers; erased with the person once the final notice is sent.
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    requester_postal_address = models.TextField(_("requester postal address"), blank=True)
    representative_name = models.CharField(_("representative name"), max_length=200, blank=True)
    details = models.TextField(_("what was asked"), blank=True, max_length=5000)
    language = models.CharField(
        _("language for notices"),
        max_length=10,
        choices=[("ja", _("Japanese")), ("en", _("English"))],
        default="ja",
    )

    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_on = models.DateField(_("due on"))
    # GDPR Art. 12(3): one month, extendable once by up to two more, with the reasons told to
    # the requester within the first month.
    extended_at = models.DateTimeField(_("deadline extended at"), null=True, blank=True)
    extension_reasons = models.TextField(_("reasons for the extension"), blank=True)

    identity_method = models.CharField(
        _("identity verified by"),
        max_length=20,
        choices=IdentityMethod.choices,
        blank=True,
        default=IdentityMethod.NONE,
    )
    identity_verified_at = models.DateTimeField(_("identity verified at"), null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("identity verified by (staff)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    code_hash = models.CharField(_("code digest"), max_length=64, blank=True, editable=False)
    code_expires_at = models.DateTimeField(
        _("code expires at"), null=True, blank=True, editable=False
    )
    code_attempts = models.PositiveSmallIntegerField(_("code attempts"), default=0, editable=False)

    fee_status = models.CharField(
        _("fee"), max_length=20, choices=FeeStatus.choices, default=FeeStatus.NOT_APPLICABLE
    )
    fee_amount = models.PositiveIntegerField(_("fee (yen)"), default=0)

    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, blank=True, default=Outcome.NONE
    )
    decision_reasons = models.TextField(_("reasons given to the requester"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    # Correction / addition: {field: new value}, validated like My Page at receipt and again
    # when applied. After carrying out, applied_changes holds {field: [old, new]}.
    appi_ground = models.CharField(
        _("ground (APPI Art. 35)"),
        max_length=30,
        choices=Art35Ground.choices,
        blank=True,
        default=Art35Ground.NONE,
    )
    alternative_measure = models.TextField(
        _("alternative measure taken instead (told to the requester)"), blank=True
    )
    requested_changes = models.JSONField(_("requested changes"), default=dict, blank=True)
    applied_changes = models.JSONField(_("applied changes"), default=dict, blank=True)
    disclosure_form = models.CharField(
        _("disclosure form"),
        max_length=20,
        choices=DisclosureForm.choices,
        blank=True,
        default=DisclosureForm.NONE,
    )
    package = models.FileField(
        _("disclosure package"), storage=private_storage, blank=True, editable=False
    )
    package_expires_at = models.DateTimeField(_("download expires at"), null=True, blank=True)
    # A requester without a login (a guest, a non-member) downloads through the link in the
    # completion mail (services/disclosure_link.py): its token's SHA-256 only, and a one-time
    # code to the address on file that opens it (hashed, expiring, few attempts).
    link_token_hash = models.CharField(
        _("download link digest"), max_length=64, blank=True, db_index=True, editable=False
    )
    link_code_hash = models.CharField(
        _("download code digest"), max_length=64, blank=True, editable=False
    )
    link_code_expires_at = models.DateTimeField(
        _("download code expires at"), null=True, blank=True, editable=False
    )
    link_code_attempts = models.PositiveSmallIntegerField(
        _("download code attempts"), default=0, editable=False
    )
    # Counts and reasons from the erasers (never values): what was deleted, anonymised, kept.
    erasure_report = models.JSONField(_("erasure report"), default=dict, blank=True)
    restriction_result = models.JSONField(_("restriction result"), default=dict, blank=True)
    answer = models.TextField(_("answer sent with the completion notice"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    contact_erased_at = models.DateTimeField(
        _("contact erased at"), null=True, blank=True, editable=False
    )
    # The date the erasure notice promised this record is kept until (the person's erasure sets
    # it); the retention rule "privacy_request_records" deletes the record the day after.
    kept_until = models.DateField(_("record kept until"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["customer", "-received_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=sorted(k.value for k in GDPR_ONLY_KINDS)) | Q(law=Law.GDPR),
                name="privacyrequest_gdpr_kinds_need_gdpr",
            ),
            # A refusal in whole or in part, and "no data held", always come with reasons.
            models.CheckConstraint(
                condition=~Q(outcome__in=[Outcome.PARTIAL, Outcome.NO_DATA, Outcome.REJECTED])
                | ~Q(decision_reasons=""),
                name="privacyrequest_refusal_has_reasons",
            ),
            # An alternative measure says what was done instead (APPI Art. 35(2)).
            models.CheckConstraint(
                condition=~Q(outcome="alternative")
                | (~Q(alternative_measure="") & ~Q(decision_reasons="")),
                name="privacyrequest_alternative_is_described",
            ),
            # APPI has no extension: only a GDPR request's deadline can be extended.
            models.CheckConstraint(
                condition=Q(extended_at__isnull=True) | Q(law=Law.GDPR),
                name="privacyrequest_extension_only_gdpr",
            ),
            # APPI Art. 38: never a fee outside notification of purpose and disclosure, nor
            # for GDPR requesters.
            models.CheckConstraint(
                condition=Q(fee_status=FeeStatus.NOT_APPLICABLE)
                | (Q(law=Law.APPI) & Q(kind__in=sorted(k.value for k in FEE_KINDS))),
                name="privacyrequest_fee_only_where_allowed",
            ),
        ]
        permissions = [
            ("decide_privacyrequest", "Can verify, approve, reject and carry out requests"),
            ("view_identity_document", "Can view identity documents"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def days_left(self) -> int:
        return (self.due_on - timezone.localdate()).days

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.days_left < 0

    @property
    def is_due_soon(self) -> bool:
        return self.is_open and 0 <= self.days_left <= DUE_SOON_DAYS


class RequestEvent(models.Model):
    """The timeline: one row per step, never edited (erasure only blanks a note's text)."""

    class Step(models.TextChoices):
        RECEIVED = "received", _("Request received")
        VERIFICATION_STARTED = "verification_started", _("Identity verification started")
        CODE_SENT = "code_sent", _("One-time code sent to the address on file")
        CODE_FAILED = "code_failed", _("Wrong or expired one-time code")
        DOCUMENT_ADDED = "document_added", _("Document received")
        IDENTITY_VERIFIED = "identity_verified", _("Identity verified")
        FEE_REQUESTED = "fee_requested", _("Fee requested")
        FEE_RECORDED = "fee_recorded", _("Fee recorded")
        IN_REVIEW = "in_review", _("In review")
        EXTENDED = "extended", _("Deadline extended (GDPR)")
        LAW_RECORDED = "law_recorded", _("Person in the EU/EEA recorded: the GDPR applies too")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        NO_DATA = "no_data", _("Answered: no data held")
        ALTERNATIVE_MEASURE = "alternative_measure", _("Alternative measure taken (APPI Art. 35)")
        CARRY_OUT_STARTED = "carry_out_started", _("Carrying out started")
        CARRY_OUT_FAILED = "carry_out_failed", _("Could not be carried out; back in review")
        WAITING_FOR_SYSTEMS = (
            "waiting_for_systems",
            _("Carried out here; waiting for the other systems"),
        )
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn by the requester")
        NOTICE_SENT = "notice_sent", _("Notice e-mailed to the requester")
        NOTICE_POSTED = "notice_posted", _("Notice posted to the requester")
        DOCUMENTS_PURGED = "documents_purged", _("Documents purged")
        PACKAGE_PURGED = "package_purged", _("Disclosure package purged")
        DOWNLOAD_CODE_SENT = "download_code_sent", _("Download code sent to the address on file")
        DOWNLOAD_UNLOCKED = "download_unlocked", _("Download opened with the one-time code")
        CONTACT_ERASED = "contact_erased", _("Requester contact details erased")

    class Actor(models.TextChoices):
        STAFF = "staff", _("Staff")
        REQUESTER = "requester", _("Requester")
        SYSTEM = "system", _("System")

    privacy_request = models.ForeignKey(
        PrivacyRequest,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("privacy request"),
    )
    step = models.CharField(_("step"), max_length=30, choices=Step.choices)
    actor = models.CharField(_("actor"), max_length=20, choices=Actor.choices)
    # The staff member or member who acted (an id; the login may later be erased).
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "pk"]

    def __str__(self):
        return _("%(time)s %(step)s") % {
            "time": f"{timezone.localtime(self.at):%Y-%m-%d %H:%M}",
            "step": self.get_step_display(),
        }

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The timeline is append-only.")


class Notice(models.Model):
    """A mail to the requester, written in the same transaction as the step that causes it and
    sent by a task exactly once."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        DECISION = "decision", _("Decision")
        EXTENSION = "extension", _("Deadline extension")
        COMPLETION = "completion", _("Completion")
        WITHDRAWAL = "withdrawal", _("Withdrawal")

    privacy_request = models.ForeignKey(
        PrivacyRequest,
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("privacy request"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent or posted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["privacy_request", "kind"], name="notice_once_per_kind")
        ]

    def __str__(self):
        return _("%(kind)s written %(date)s") % {
            "kind": self.get_kind_display(),
            "date": f"{timezone.localtime(self.created_at):%Y-%m-%d}" if self.created_at else "-",
        }


class IdentityDocument(models.Model):
    class Purpose(models.TextChoices):
        IDENTITY = "identity", _("Identity of the person")
        REPRESENTATIVE_IDENTITY = "representative_identity", _("Identity of the representative")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
        SEAL_CERTIFICATE = "seal_certificate", _("Seal registration certificate")
        PROOF_OF_AUTHORITY = (
            "proof_of_authority",
            _("Proof of legal representation (family register extract, …)"),
        )

    class DocumentType(models.TextChoices):
        DRIVERS_LICENSE = "drivers_license", _("Driver's license")
        PASSPORT = "passport", _("Passport")
        HEALTH_INSURANCE = "health_insurance", _("Health insurance card (number masked)")
        MY_NUMBER_FRONT = "my_number_front", _("My Number card (front only)")
        RESIDENCE_CARD = "residence_card", _("Residence card")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
        SEAL_CERTIFICATE = "seal_certificate", _("Seal registration certificate")
        FAMILY_REGISTER = "family_register", _("Family register extract")
        OTHER_PROOF = "other_proof", _("Other proof of authority")

    privacy_request = models.ForeignKey(
        PrivacyRequest,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("privacy request"),
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    document_type = models.CharField(_("type"), max_length=30, choices=DocumentType.choices)
    # Named by a random token, never by anything about the person.
    file = models.FileField(_("file"), storage=private_storage, blank=True)
    content_type = models.CharField(_("file type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    number_masked = models.BooleanField(_("insurance number masked"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    purged_at = models.DateTimeField(_("file purged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        ordering = ["pk"]

    def __str__(self):
        return _("%(type)s (%(purpose)s)") % {
            "type": self.get_document_type_display(),
            "purpose": self.get_purpose_display(),
        }
