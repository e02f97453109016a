"""Mail magazines, subscriptions, campaigns, one delivery row per campaign and recipient, and the
suppression list of keyed address hashes that outlives deletion."""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from apps.consents.models import ConsentEvent, Purpose
from apps.customers.models import Customer


class MailMagazine(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("code"), unique=True)
    description = models.TextField(_("description"), blank=True)
    purpose = models.ForeignKey(
        Purpose,
        verbose_name=_("consent purpose it needs"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"requires_opt_in": True},
    )
    from_name = models.CharField(_("sender name"), max_length=100)
    from_email = models.EmailField(_("sender address"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mail magazine")
        verbose_name_plural = _("mail magazines")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        ACTIVE = "active", _("Active")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    class ConfirmKind(models.TextChoices):
        # What the pending confirmation mail says: a request through the form (or My Page), or
        # an import of people who consented elsewhere (they asked nothing of us just now).
        REQUEST = "request", _("Asked for by the person")
        IMPORT = "import", _("Imported with an earlier consent")

    magazine = models.ForeignKey(
        MailMagazine, on_delete=models.PROTECT, related_name="+", verbose_name=_("magazine")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    # Keyed hash (HMAC-SHA256) of the address that was confirmed: mail goes only to that
    # address; after an e-mail change the subscription needs confirming again.
    email_hash = models.CharField(_("e-mail address digest"), max_length=64)
    confirm_token_hash = models.CharField(_("confirmation token digest"), max_length=64, blank=True)
    confirm_sent_at = models.DateTimeField(_("confirmation sent at"), null=True, blank=True)
    confirm_kind = models.CharField(
        _("confirmation asked for"),
        max_length=10,
        choices=ConfirmKind.choices,
        default=ConfirmKind.REQUEST,
        blank=True,
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["magazine", "customer"], name="subscription_one_per_magazine_customer"
            )
        ]
        indexes = [
            models.Index(
                fields=["magazine", "customer"],
                condition=models.Q(status="active"),
                name="subscription_active_idx",
            )
        ]

    def __str__(self):
        return _("%(magazine)s, customer No. %(number)s") % {
            "magazine": self.magazine,
            "number": f"{self.customer_id or 0:06d}",
        }


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    magazine = models.ForeignKey(
        MailMagazine, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("magazine")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(
        _("text body"),
        help_text=_("{name} is replaced by the recipient's name. The legal footer is added."),
    )
    body_html = models.TextField(
        _("HTML body"), blank=True, help_text=_("Optional. Same placeholders as the text body.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The fan-out writes the Delivery rows in slices, each committed (and sent) on its own; this
    # is set in the same transaction as the last one. Until then the campaign is never `sent`,
    # and the sweep runs the fan-out again (it goes on after the last committed slice).
    fanned_out_at = models.DateTimeField(_("recipients prepared at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self):
        return self.subject


class Delivery(models.Model):
    """One campaign to one recipient. Unique per campaign and recipient, so nobody can be
    written down twice; a row moves pending → sending (claimed by exactly one chunk) → sent /
    failed, or pending → skipped. A row left in `sending` by a crash is never resent. When the
    mail server is unreachable or answers "try later" (4xx) the row goes back to pending with
    `next_attempt_at` (exponential backoff over `attempts`): the campaign's record of what is
    left to do is these rows, which the sweep (pipeline.campaign_sweep) drives."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        UNKNOWN = "unknown", _("Unknown (worker lost while sending)")

    class Feedback(models.TextChoices):
        # In rising order of weight: a later, lighter report never replaces a heavier one.
        NONE = "", _("No report from the mail provider")
        SOFT_BOUNCED = "soft_bounced", _("Soft bounce (temporary, not suppressed)")
        BOUNCED = "bounced", _("Bounced (hard)")
        COMPLAINED = "complained", _("Complained (spam report)")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("campaign")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("subscription"),
    )
    # Why this person got this mail: the consent event that allowed it.
    consent_event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("consent event"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    skip_reason = models.CharField(_("skip reason"), max_length=40, blank=True)
    message_id = models.CharField(_("message id"), max_length=200, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Tries the mail server deferred (unreachable, timed out, 4xx); pending rows wait until
    # next_attempt_at (empty: due now).
    # db_default: the fan-out writes rows with one INSERT … SELECT that names its columns.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, db_default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # What the mail provider reported after the hand-over (esp.py), apart from `status`, which
    # the pipeline owns: a bounce can arrive while its chunk is still recording. db_default,
    # because the pipeline writes rows with a raw INSERT that does not name this column.
    feedback = models.CharField(
        _("feedback from the mail server"),
        max_length=20,
        choices=Feedback.choices,
        blank=True,
        default="",
        db_default="",
    )
    feedback_at = models.DateTimeField(_("feedback at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="delivery_one_per_campaign_customer"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            # What a chunk claims (pending, in id order) and the sweep looks for: small, as
            # rows leave it once sent.
            models.Index(
                fields=["campaign", "id"],
                condition=models.Q(status="pending"),
                name="delivery_pending_idx",
            ),
        ]

    def __str__(self):
        return _("%(campaign)s to customer No. %(number)s") % {
            "campaign": self.campaign,
            "number": f"{self.customer_id or 0:06d}",
        }


class SuppressedAddress(models.Model):
    """An address that must not be mailed, kept only as a keyed hash so it outlives erasure
    without keeping the address itself."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained (spam report)")
        ERASED = "erased", _("Erased at the person's request")

    address_hash = models.CharField(_("address digest"), max_length=64)
    # Empty: every magazine. Set: only that one (an unsubscribe from one magazine).
    magazine = models.ForeignKey(
        MailMagazine,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("magazine"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        constraints = [
            models.UniqueConstraint(
                fields=["address_hash", "magazine"], name="suppression_unique_per_magazine"
            ),
            models.UniqueConstraint(
                fields=["address_hash"],
                condition=models.Q(magazine__isnull=True),
                name="suppression_unique_global",
            ),
        ]
        indexes = [models.Index(fields=["address_hash"])]

    def __str__(self):
        return _("Suppressed address (%(reason)s)") % {"reason": self.get_reason_display()}


class SuppressionLift(models.Model):
    """Evidence that an erasure suppression was lifted: the person subscribed again with the
    same address and confirmed it by the link mailed to it (double opt-in). Which confirmation
    (the consent event it wrote, with its IP and time), for which magazine, and when the
    address had been suppressed. Bounces and complaints are never lifted this way. Kept as long
    as that consent event (the marketing retention job removes both together)."""

    address_hash = models.CharField(_("address digest"), max_length=64, db_index=True)
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressedAddress.Reason.choices)
    suppressed_at = models.DateTimeField(_("suppressed at"))
    lifted_at = models.DateTimeField(_("lifted at"), auto_now_add=True)
    # Not the subscription: an erasure deletes those with one raw DELETE. The consent event
    # names the person, and it is the confirmation itself (its time, IP and user agent).
    magazine = models.ForeignKey(
        MailMagazine,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("magazine"),
    )
    consent_event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirming consent event"),
    )

    class Meta:
        verbose_name = _("lifted suppression")
        verbose_name_plural = _("lifted suppressions")
        ordering = ["-lifted_at"]

    def __str__(self):
        return _("Suppression lifted on %(date)s") % {
            "date": formats.date_format(timezone.localtime(self.lifted_at), "DATE_FORMAT")
        }
