"""The register of systems that hold a copy of personal data, and the webhooks that reach them.

A ``DownstreamSystem`` is a storefront, a mail provider, a carrier, a payment provider, an ad
platform...: what data it holds, and whether it is reached by a signed webhook (automatic) or by a
manual task (a person confirms). It may be a contractor of the consignee register and an API
client of the inbound API. A webhook system has one ``WebhookEndpoint``: its URL, the events it
wants and its signing secrets (``WebhookSecret``; rotation keeps the old one signing beside the
new one for an overlap). Each event an endpoint wants becomes one ``WebhookDelivery`` row in the
transaction of the change; the row is the durable record of the work (see delivery.py), and its
body is dropped once it is delivered.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import events

__all__ = [
    "DataCategory",
    "DownstreamSystem",
    "EventType",
    "PropagationTask",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookSecret",
]


class DataCategory(models.TextChoices):
    IDENTITY = "identity", _("name and kana")
    CONTACT = "contact", _("e-mail and phone")
    ADDRESS = "address", _("postal addresses")
    ORDERS = "orders", _("orders and shipping")
    PAYMENT = "payment", _("payment details")
    CONSENTS = "consents", _("consents and subscriptions")
    ONLINE_IDS = "online_ids", _("cookies, device and advertising ids")


class EventType(models.TextChoices):
    CONSENT_CHANGED = events.CONSENT_CHANGED, _("a consent changed")
    SUBSCRIPTION_CHANGED = events.SUBSCRIPTION_CHANGED, _("a subscription started or stopped")
    PRIVACY_REQUEST_RECEIVED = events.PRIVACY_REQUEST_RECEIVED, _("a privacy request received")
    PRIVACY_REQUEST_COMPLETED = events.PRIVACY_REQUEST_COMPLETED, _("a privacy request completed")
    CUSTOMER_CORRECTED = events.CUSTOMER_CORRECTED, _("a customer's data corrected")
    CUSTOMER_RESTRICTED = events.CUSTOMER_RESTRICTED, _("use or provision stopped")
    CUSTOMER_ERASED = events.CUSTOMER_ERASED, _("a customer erased")


class DownstreamSystem(models.Model):
    class Kind(models.TextChoices):
        STOREFRONT = "storefront", _("storefront")
        MAIL_PROVIDER = "mail_provider", _("mail provider")
        CARRIER = "carrier", _("carrier")
        PAYMENT = "payment", _("payment provider")
        AD_PLATFORM = "ad_platform", _("ad platform")
        OTHER = "other", _("other")

    class Reach(models.TextChoices):
        WEBHOOK = "webhook", _("signed webhook (automatic)")
        MANUAL = "manual", _("manual task (staff confirm)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    data_categories = models.JSONField(_("data categories held"), default=list, blank=True)
    reached_by = models.CharField(_("reached by"), max_length=10, choices=Reach.choices)
    contractor = models.ForeignKey(
        "consents.Contractor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="systems",
        verbose_name=_("contractor (consignee)"),
    )
    api_client = models.OneToOneField(
        "integration.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="downstream_system",
        verbose_name=_("API client"),
        help_text=_("The API client this system is: webhooks name people by its external ids."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive system is sent nothing.")
    )
    holds_every_customer = models.BooleanField(
        _("holds every customer's data"),
        default=False,
        help_text=_(
            "Every erasure, correction and stop is passed on to it (e.g. the mail provider), "
            "not only those of people its API client brought."
        ),
    )
    confirms_propagation = models.BooleanField(
        _("confirms what it applied"),
        default=False,
        help_text=_(
            "Its task is done when the system confirms through the API "
            "(POST /api/v1/propagations/{id}/confirm), not when it accepts the webhook."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("downstream system")
        verbose_name_plural = _("downstream systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookEndpoint(models.Model):
    system = models.OneToOneField(
        DownstreamSystem,
        on_delete=models.CASCADE,
        related_name="endpoint",
        verbose_name=_("system"),
    )
    url = models.URLField(_("endpoint URL"), max_length=500)
    event_types = models.JSONField(_("events it wants"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # Since when every attempt has failed (None after a success): a day of it disables.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["system__name"]

    def __str__(self) -> str:
        return f"{self.system} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class WebhookSecret(models.Model):
    """A Standard Webhooks signing secret (``whsec_`` + base64). It must be kept as it is to
    sign, so it is shown once to staff and never again in the admin (only its prefix)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="secrets",
        verbose_name=_("endpoint"),
    )
    secret = models.CharField(_("secret"), max_length=100)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Set when a newer secret replaces it: it keeps signing beside the new one until then.
    expires_at = models.DateTimeField(_("signs until"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook secret")
        verbose_name_plural = _("webhook secrets")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.secret[:10]}…"


class WebhookDelivery(models.Model):
    """One event for one endpoint. ``payload`` is the body (ids; a correction's new values; the
    person's id at the receiving system) until it is delivered, then None: the log keeps the
    event type, our customer id, the status, attempts, response codes and times."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        DELIVERING = "delivering", _("being sent")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed, will retry")
        GIVEN_UP = "given_up", _("given up")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    # The event, shared by the deliveries of one change to every endpoint (the body's "id").
    event_id = models.UUIDField(_("event id"), db_index=True)
    # `webhook-id`: the same on every attempt of this delivery, so a receiver can drop repeats.
    msg_id = models.CharField(_("webhook message id"), max_length=40, unique=True)
    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    customer_id = models.PositiveBigIntegerField(_("customer id"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    # The event's ids and states, kept after delivery (a correction's field names, not values).
    data = models.JSONField(_("event data"), default=dict, blank=True)
    # None, not "": "dropped once delivered" is a state of its own.
    payload = models.TextField(_("body"), null=True, blank=True)  # noqa: DJ001
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Pending/failed: when it may be sent. Delivering: the end of its lease (a lost worker).
    next_attempt_at = models.DateTimeField(_("next attempt"))
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    last_error = models.CharField(_("reason"), max_length=200, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replays",
        verbose_name=_("replay of"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sender's and the sweep's query: an endpoint's due rows.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="integration_whdelivery_due",
                condition=models.Q(status__in=["pending", "delivering", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return _("%(event)s at %(time)s (%(status)s)") % {
            "event": self.get_event_type_display(),
            "time": f"{timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}",
            "status": self.get_status_display(),
        }


class PropagationTask(models.Model):
    """One system that holds a copy of a person's data, to be told of an erasure, correction or
    stop carried out for a privacy request (propagation.py). The request completes only when
    each of its tasks is done or recorded as impossible (apps/core/completion.py). Ids only:
    a correction's new values travel in the delivery's body, which is dropped once delivered."""

    class Action(models.TextChoices):
        ERASURE = "erasure", _("erase")
        CORRECTION = "correction", _("correct")
        STOP_OF_USE = "stop_of_use", _("stop use")
        STOP_OF_PROVISION = "stop_of_provision", _("stop provision")

    class State(models.TextChoices):
        OPEN = "open", _("waiting for staff")
        SENT = "sent", _("webhook being delivered")
        CONFIRMING = "confirming", _("delivered, waiting for the system's confirmation")
        DONE = "done", _("done")
        CANNOT = "cannot", _("cannot be done (reason recorded)")

    CLOSED_STATES = (State.DONE, State.CANNOT)

    system = models.ForeignKey(
        DownstreamSystem,
        on_delete=models.PROTECT,
        related_name="propagation_tasks",
        verbose_name=_("system"),
    )
    # By its label only (integration imports nothing of the request app, SPEC §2): the key
    # lets the request's admin page list its tasks (an inline added through
    # apps/core/admin_extensions.py). Requests are never deleted.
    privacy_request = models.ForeignKey(
        "privacy_requests.PrivacyRequest",
        on_delete=models.PROTECT,
        related_name="propagation_tasks",
        verbose_name=_("privacy request"),
    )
    customer_id = models.PositiveBigIntegerField(_("customer id"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # A correction's field names (never their values), for the staff doing a manual task.
    fields = models.JSONField(_("fields"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    delivery = models.OneToOneField(
        WebhookDelivery,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="propagation_task",
        verbose_name=_("webhook delivery"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    reason = models.CharField(_("why it cannot be done"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("propagation task")
        verbose_name_plural = _("propagation tasks")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["privacy_request", "system"], name="integration_propagation_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["state", "created_at"],
                name="integration_propagation_open",
                condition=models.Q(state__in=["open", "sent", "confirming"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} → {self.system}"

    @property
    def is_closed(self) -> bool:
        return self.state in self.CLOSED_STATES
