"""The shop systems that connect to the back office, and what they bring.

An ``ApiClient`` is one system (the shop's own storefront, an EC-CUBE or Shopify shop, another
system) with its scopes and rate limit; it authenticates with ``ApiKey``s, of which only a hash is
stored (the key is shown once). ``ExternalCustomer`` and ``ExternalOrder`` map the ids a client
knows people and orders by to ours: upserts go through them, and an erasure reports them to the
systems that hold a copy. ``IdempotencyRecord`` keeps the first answer to a POST for a day, and
``ApiCallLog`` is the append-only access log of every call (ids, never values).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.append_only import AppendOnlyModel


class Scope(models.TextChoices):
    CUSTOMERS_WRITE = "customers:write", _("write customers")
    ORDERS_WRITE = "orders:write", _("write orders")
    CONSENTS_WRITE = "consents:write", _("record consent events")
    CONSENTS_READ = "consents:read", _("check consents")
    REQUESTS_WRITE = "requests:write", _("file privacy requests and inquiries")
    REQUESTS_READ = "requests:read", _("read privacy request status")
    PROPAGATIONS_WRITE = "propagations:write", _("confirm erasures and corrections applied")


class ApiClient(models.Model):
    class System(models.TextChoices):
        STOREFRONT = "storefront", _("own storefront")
        ECCUBE = "ecube", _("EC-CUBE")
        SHOPIFY = "shopify", _("Shopify")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=100, unique=True)
    system = models.CharField(_("system"), max_length=20, choices=System.choices)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    rate_limit = models.CharField(
        _("rate limit"),
        max_length=20,
        default="6000/m",
        help_text=_("Calls per period, e.g. 6000/m or 100/s."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # A Shopify connection (system=shopify): the shop it is and the app's client secret, the key
    # of Shopify's webhook signatures. The secret must stay usable, so it cannot be hashed: it is
    # stored encrypted (apps/integration/shopify.py), typed in the admin and never shown, logged
    # or sent again. The previous one is accepted for SHOPIFY_SECRET_ROTATION_OVERLAP_HOURS after
    # a change (Shopify takes up to an hour to sign with a rotated secret).
    shop_domain = models.CharField(
        _("Shopify shop domain"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("For a Shopify connection: the shop's domain, e.g. example.myshopify.com."),
    )
    shopify_secret_encrypted = models.TextField(
        _("Shopify secret (encrypted)"), blank=True, default="", editable=False
    )
    shopify_previous_secret_encrypted = models.TextField(
        _("previous Shopify secret (encrypted)"), blank=True, default="", editable=False
    )
    shopify_secret_changed_at = models.DateTimeField(
        _("Shopify secret changed at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop_domain"],
                condition=~models.Q(shop_domain=""),
                name="integration_apiclient_shop_domain_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class ApiKey(models.Model):
    """One key of a client. The key is ``<prefix>.<secret>``; the prefix finds the row and is
    shown in the admin, the SHA-256 of the whole key is compared (the secret has 256 bits of
    randomness, so a slow password hash would add cost and no safety)."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="keys", verbose_name=_("API client")
    )
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("Set when the key is rotated: the old key keeps working until then."),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ExternalCustomer(models.Model):
    """The id a client knows a person by."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, verbose_name=_("API client"))
    external_id = models.CharField(_("external id"), max_length=100)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="external_ids",
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("external customer id")
        verbose_name_plural = _("external customer ids")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"], name="integration_extcustomer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.external_id}"


class ExternalOrder(models.Model):
    """The id a client knows an order by."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, verbose_name=_("API client"))
    external_id = models.CharField(_("external id"), max_length=100)
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        related_name="external_ref",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("external order id")
        verbose_name_plural = _("external order ids")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"], name="integration_extorder_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.external_id}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``: a repeat gets it again, a
    different request with the same key is refused. Answers hold ids and statuses only; rows are
    dropped after a day (retention rule ``api_idempotency``)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, verbose_name=_("client"))
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), default=0)
    response = models.JSONField(_("stored response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="integration_idempotency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key[:12]}"


class ApiCallLog(AppendOnlyModel):
    """Who called what, on which objects: client id, action, object ids, status. Never a name, an
    e-mail or a body."""

    client_id = models.PositiveBigIntegerField(_("API client id"), db_index=True)
    action = models.CharField(_("action"), max_length=60)
    object_ids = models.JSONField(_("object ids"), default=list, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} ({self.status_code})"


class ShopifyWebhook(models.Model):
    """One of Shopify's mandatory privacy webhooks, received and verified: the ids it names and
    what became of it. Neither the e-mail address nor the phone number Shopify sends is kept:
    the person is found by the Shopify customer id (or the order ids) this connection brought."""

    class Topic(models.TextChoices):
        DATA_REQUEST = "customers/data_request", _("customer data request")
        CUSTOMER_REDACT = "customers/redact", _("customer redaction")
        SHOP_REDACT = "shop/redact", _("shop redaction")

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        FILED = "filed", _("request filed")
        NOT_KNOWN = "not_known", _("nobody this shop brought: nothing to do")
        REFUSED = "refused", _("request refused")
        SHOP_ERASED = "shop_erased", _("shop's data erased")

    client = models.ForeignKey(
        ApiClient,
        on_delete=models.PROTECT,
        related_name="shopify_webhooks",
        verbose_name=_("API client"),
    )
    topic = models.CharField(_("topic"), max_length=40, choices=Topic.choices)
    webhook_id = models.CharField(_("webhook message id"), max_length=100)
    event_id = models.CharField(_("event id"), max_length=100, blank=True, default="")
    shop_id = models.BigIntegerField(_("Shopify shop id"), null=True, blank=True)
    shopify_customer_id = models.CharField(
        _("Shopify customer id"), max_length=40, blank=True, default=""
    )
    order_ids = models.JSONField(_("Shopify order ids"), default=list, blank=True)
    data_request_id = models.CharField(
        _("Shopify data request id"), max_length=40, blank=True, default=""
    )
    triggered_at = models.DateTimeField(_("triggered at"), null=True, blank=True)
    api_version = models.CharField(_("API version"), max_length=20, blank=True, default="")
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.RECEIVED
    )
    customer_ids = models.JSONField(_("customer ids"), default=list, blank=True)
    request_references = models.JSONField(_("request references"), default=list, blank=True)
    # Why a request was refused (the request app's own messages) or what a shop erasure did,
    # in counts: never a personal value.
    outcome = models.TextField(_("outcome"), blank=True, default="")
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Shopify privacy webhook")
        verbose_name_plural = _("Shopify privacy webhooks")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "webhook_id"], name="integration_shopify_webhook_once"
            ),
            # Shopify's own deduplication key: the same event sent through two subscriptions.
            models.UniqueConstraint(
                fields=["client", "event_id"],
                condition=~models.Q(event_id=""),
                name="integration_shopify_event_once",
            ),
        ]

    def __str__(self) -> str:
        return _("%(topic)s received %(date)s") % {
            "topic": self.get_topic_display(),
            "date": f"{timezone.localtime(self.received_at):%Y-%m-%d %H:%M}",
        }


class PrivacyLink(models.Model):
    """A one-time link to My Page's privacy pages, asked for by a client for a person it brought
    (apps/integration/privacy_link.py). The token is derived from the row's random nonce with the
    site's secret and only its hash is kept here, so neither this table nor a stored API answer
    holds a working link; it works once, until ``expires_at``."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, verbose_name=_("API client"))
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    nonce = models.CharField(_("nonce"), max_length=32, editable=False)
    token_hash = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("privacy-center link")
        verbose_name_plural = _("privacy-center links")

    def __str__(self) -> str:
        return _("Privacy page link created %(date)s") % {
            "date": f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
        }


class ExternalConsentEvent(models.Model):
    """A consent-ledger event a client sent: which client, and when its system says the choice
    was made (the ledger's own ``occurred_at`` is when the event reached us, which keeps the
    ledger and the current-state table in one order). Ids and a time, no personal data.

    No database constraint on ``event``: the ledger's retention purge deletes events with its own
    statement, and a row left behind names an id only."""

    event = models.OneToOneField(
        "consents.ConsentEvent",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="external",
        verbose_name=_("consent event"),
    )
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, verbose_name=_("API client"))
    occurred_at = models.DateTimeField(_("time given by the client"))

    class Meta:
        verbose_name = _("consent event from an API client")
        verbose_name_plural = _("consent events from API clients")

    def __str__(self) -> str:
        return _("Consent reported by %(client)s at %(time)s") % {
            "client": self.client,
            "time": f"{timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}",
        }


from apps.integration.outbound.models import *  # noqa: E402, F403 (the outgoing webhooks' models)
