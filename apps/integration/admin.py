"""API clients for the privacy officer and the administrator: scopes, rate limit, keys (issued
once, shown once, rotated with an overlap, revoked), last use; and the API access log."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from apps.integration.imports.admin import CustomerImportAdminMixin
from apps.integration.models import ApiCallLog, ApiClient, ApiKey, Scope
from apps.integration.services import api_key_issue, api_keys_revoke


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiClient
        fields = ["name", "system", "scopes", "rate_limit", "is_active"]

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
class ApiClientAdmin(CustomerImportAdminMixin, admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "system", "scope_list", "rate_limit", "is_active", "last_used_at"]
    list_filter = ["system", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "last_used_at"]
    inlines = [ApiKeyInline]
    actions = ["issue_key", "revoke_keys", "import_customers"]

    @admin.display(description=_("scopes"))
    def scope_list(self, client):
        return ", ".join(client.scopes or [])

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
