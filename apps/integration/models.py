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

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

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

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

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


from apps.integration.outbound.models import *  # noqa: E402, F403 (the outgoing webhooks' models)
