"""API clients for the privacy officer and the administrator: scopes, rate limit, keys (issued
once, shown once, rotated with an overlap, revoked), last use; and the API access log."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.core.admin_actions import ServiceActionsMixin
from apps.integration.models import ApiCallLog, ApiClient, ApiKey, Scope, ShopifyWebhook
from apps.integration.services import api_key_issue, api_keys_revoke

# The domain Shopify names a shop by in its webhooks' X-Shopify-Shop-Domain.
SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com")


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    # Write-only: typed in, kept encrypted, never rendered back (apps/integration/shopify.py).
    shopify_client_secret = forms.CharField(
        label=_("Shopify client secret"),
        required=False,
        strip=True,
        max_length=255,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "For a Shopify connection: the app's client secret, which signs Shopify's webhooks. "
            "It is stored encrypted and never shown again; leave blank to keep the current one."
        ),
    )

    class Meta:
        model = ApiClient
        fields = ["name", "system", "scopes", "rate_limit", "is_active", "shop_domain"]

    def clean_shop_domain(self):
        from apps.integration.shopify import normalise_domain

        value = normalise_domain(self.cleaned_data.get("shop_domain", ""))
        if value and not SHOP_DOMAIN.fullmatch(value):
            raise forms.ValidationError(
                _("Write the shop's myshopify.com domain, e.g. example.myshopify.com.")
            )
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("system") == ApiClient.System.SHOPIFY:
            if not cleaned.get("shop_domain") and "shop_domain" not in self.errors:
                self.add_error("shop_domain", _("A Shopify connection needs the shop's domain."))
            if not cleaned.get("shopify_client_secret") and not (
                self.instance.pk and self.instance.shopify_secret_encrypted
            ):
                self.add_error(
                    "shopify_client_secret",
                    _("A Shopify connection needs the app's client secret."),
                )
        return cleaned

    def clean_rate_limit(self):
        from apps.core.ratelimit import parse_rate

        value = self.cleaned_data["rate_limit"].strip()
        try:
            parse_rate(value)
        except ValueError as exc:
            raise forms.ValidationError(
                _("Write the limit as a count per period, e.g. 6000/m or 100/s.")
            ) from exc
        return value


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "system", "scope_list", "rate_limit", "is_active", "last_used_at"]
    list_filter = ["system", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "last_used_at", "shopify_secret_state"]
    inlines = [ApiKeyInline]
    actions = ["issue_key", "revoke_keys"]

    @admin.display(description=_("scopes"))
    def scope_list(self, client):
        return ", ".join(client.scopes or [])

    @admin.display(description=_("Shopify client secret"))
    def shopify_secret_state(self, client):
        # Whether one is set and since when: the secret itself is never rendered.
        if not client.shopify_secret_encrypted:
            return _("not set")
        return _("set (changed %(when)s)") % {
            "when": date_format(
                timezone.localtime(client.shopify_secret_changed_at), "DATETIME_FORMAT"
            )
            if client.shopify_secret_changed_at
            else "?"
        }

    def save_model(self, request, obj, form, change):
        secret = form.cleaned_data.get("shopify_client_secret")
        if secret:
            from apps.integration.shopify import secret_set

            secret_set(obj, secret)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # Deleting a client would drop the external ids it brought; deactivate it instead.
        return False

    @admin.action(description=_("Issue a new key (old keys keep working for the overlap)"))
    def issue_key(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one client."), messages.ERROR)
            return None
        client = queryset.get()
        key = api_key_issue(client=client, by_user_id=request.user.pk)
        response = TemplateResponse(
            request,
            "admin/integration/apiclient/key_issued.html",
            {
                **self.admin_site.each_context(request),
                "client": client,
                "key": key,
                "overlap_hours": settings.API_KEY_ROTATION_OVERLAP_HOURS,
                "opts": self.model._meta,
                "title": _("New API key"),
            },
        )
        add_never_cache_headers(response)  # the key must not stay in any cache
        return response

    @admin.action(description=_("Revoke every key now"))
    def revoke_keys(self, request, queryset):
        total = sum(
            api_keys_revoke(client=client, by_user_id=request.user.pk) for client in queryset
        )
        self.message_user(request, _("Keys revoked: %(count)d") % {"count": total})


@admin.register(ApiCallLog)
class ApiCallLogAdmin(admin.ModelAdmin):
    list_display = ["at", "client_id", "action", "status_code", "object_ids"]
    list_filter = ["action", "status_code"]
    search_fields = ["=client_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShopifyWebhook)
class ShopifyWebhookAdmin(ServiceActionsMixin, admin.ModelAdmin):
    """Shopify's privacy webhooks as received: topic, shop, state, the requests they filed, and
    the state of their background job, with "try again now" for one that failed."""

    list_display = [
        "received_at",
        "topic",
        "client",
        "state",
        "references",
        "job_state",
    ]
    list_filter = ["topic", "state", "client"]
    date_hierarchy = "received_at"
    actions = ["try_again"]
    readonly_fields = [
        "client",
        "topic",
        "webhook_id",
        "event_id",
        "shop_id",
        "shopify_customer_id",
        "order_ids",
        "data_request_id",
        "triggered_at",
        "api_version",
        "received_at",
        "state",
        "customer_ids",
        "request_references",
        "outcome",
        "counts",
        "processed_at",
        "job_state",
    ]

    @admin.display(description=_("requests"))
    def references(self, webhook):
        # Each reference opens the request's list filtered to it (by URL name: this app does
        # not import the request app).
        changelist = reverse("admin:privacy_requests_privacyrequest_changelist")
        links = format_html_join(
            ", ",
            '<a href="{}?q={}">{}</a>',
            ((changelist, reference, reference) for reference in webhook.request_references[:5]),
        )
        more = " …" if len(webhook.request_references) > 5 else ""
        return format_html("{}{}", links, more)

    @admin.display(description=_("background job"))
    def job_state(self, webhook):
        from apps.core.durable import job_latest
        from apps.integration.shopify_tasks import shopify_webhook_process_task

        job = job_latest(shopify_webhook_process_task, webhook.pk)
        if job is None:
            return "-"
        label = job.get_state_display()
        if job.last_error:
            label = f"{label}: {job.last_error}"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:core_job_change", args=[job.pk]), label
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try again now"), permissions=["change"])
    def try_again(self, request, queryset):
        from apps.integration.shopify_services import shopify_webhook_retry

        self.apply_service(
            request,
            queryset,
            lambda webhook: shopify_webhook_retry(webhook=webhook, by=request.user),
            _("Enqueued again"),
            label=lambda webhook: f"#{webhook.pk}",
        )
