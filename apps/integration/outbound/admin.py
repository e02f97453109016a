"""The register of downstream systems, their webhook endpoints (secret shown once, rotation,
enable/disable) and the delivery log (status, attempts, response code and time; never a body),
for the privacy officer and the administrator."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin_actions import ServiceActionsMixin
from apps.core.admin_extensions import admin_extension_add
from apps.integration.outbound import propagation, services
from apps.integration.outbound.models import (
    DataCategory,
    DownstreamSystem,
    EventType,
    PropagationTask,
    WebhookDelivery,
    WebhookEndpoint,
)


class DownstreamSystemForm(forms.ModelForm):
    data_categories = forms.MultipleChoiceField(
        label=_("data categories held"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = DownstreamSystem
        fields = ["name", "kind", "data_categories", "reached_by", "contractor", "api_client",
                  "is_active"]  # fmt: skip


@admin.register(DownstreamSystem)
class DownstreamSystemAdmin(admin.ModelAdmin):
    form = DownstreamSystemForm
    list_display = ["name", "kind", "reached_by", "categories", "contractor", "api_client",
                    "endpoint_state", "is_active"]  # fmt: skip
    list_filter = ["kind", "reached_by", "is_active"]
    search_fields = ["name"]
    list_select_related = ["contractor", "api_client", "endpoint"]

    @admin.display(description=_("data categories held"))
    def categories(self, system):
        labels = dict(DataCategory.choices)
        return ", ".join(str(labels.get(code, code)) for code in system.data_categories or [])

    @admin.display(description=_("webhook endpoint"))
    def endpoint_state(self, system):
        endpoint = getattr(system, "endpoint", None)
        if endpoint is None:
            return "-"
        return _("enabled") if endpoint.enabled else _("disabled")

    def has_delete_permission(self, request, obj=None):
        # Its deliveries are the record of what it was told: deactivate it instead.
        return False


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("events it wants"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=True,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["system", "url", "event_types"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "system" in self.fields:
            self.fields["system"].queryset = DownstreamSystem.objects.filter(
                reached_by=DownstreamSystem.Reach.WEBHOOK
            )

    def clean_url(self):
        url = self.cleaned_data["url"]
        services.endpoint_url_validate(url)
        return url


class DisableForm(forms.Form):
    reason = forms.CharField(label=_("why"), max_length=200)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceActionsMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["system", "url", "event_list", "enabled", "disabled_reason", "failing_since",
                    "last_success_at"]  # fmt: skip
    list_filter = ["enabled"]
    search_fields = ["system__name", "url"]
    readonly_fields = ["enabled", "disabled_reason", "disabled_at", "failing_since",
                       "last_success_at", "secret_state", "created_at"]  # fmt: skip
    actions = ["rotate_secret", "enable", "disable"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        return [*fields, "system"] if obj is not None else fields

    @admin.display(description=_("events it wants"))
    def event_list(self, endpoint):
        return ", ".join(endpoint.event_types or [])

    @admin.display(description=_("signing secrets"))
    def secret_state(self, endpoint):
        if endpoint.pk is None:
            return "-"
        rows = [
            f"{secret}" + (f" ({_('signs until')} {secret.expires_at:%Y-%m-%d %H:%M})"
                           if secret.expires_at else "")
            for secret in endpoint.secrets.all()
        ]  # fmt: skip
        return "; ".join(rows) or "-"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.webhook_endpoint_update(
                endpoint=obj, url=data["url"], event_types=data["event_types"]
            )
            return
        endpoint, secret = services.webhook_endpoint_create(
            system=data["system"], url=data["url"], event_types=data["event_types"]
        )
        obj.pk = endpoint.pk
        obj.__dict__.update({k: v for k, v in endpoint.__dict__.items() if k != "_state"})
        obj._state.adding = False
        request._webhook_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret, rotated=False)

    def _secret_page(self, request, endpoint, secret, *, rotated):
        response = TemplateResponse(
            request,
            "admin/integration/webhookendpoint/secret_issued.html",
            {
                **self.admin_site.each_context(request),
                "endpoint": endpoint,
                "secret": secret,
                "rotated": rotated,
                "overlap_hours": settings.WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS,
                "opts": self.model._meta,
                "title": _("Webhook signing secret"),
            },
        )
        add_never_cache_headers(response)  # the secret must stay in no cache
        return response

    @admin.action(
        description=_("Rotate the signing secret (the old one signs too for the overlap)"),
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one endpoint."), messages.ERROR)
            return None
        endpoint = queryset.get()
        secret = services.webhook_secret_rotate(endpoint=endpoint, by_user_id=request.user.pk)
        return self._secret_page(request, endpoint, secret, rotated=True)

    @admin.action(description=_("Enable (send what waited)"), permissions=["change"])
    def enable(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda endpoint: services.webhook_endpoint_enable(endpoint=endpoint),
            _("Enabled"),
        )

    @admin.action(description=_("Disable (deliveries wait)"), permissions=["change"])
    def disable(self, request, queryset):
        if "reason" not in request.POST:
            return TemplateResponse(
                request,
                "admin/integration/webhookendpoint/disable.html",
                {
                    **self.admin_site.each_context(request),
                    "endpoints": queryset,
                    "form": DisableForm(),
                    "opts": self.model._meta,
                    "title": _("Disable webhook endpoints"),
                },
            )
        form = DisableForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Say why the endpoint is disabled."), messages.ERROR)
            return None
        reason = form.cleaned_data["reason"]
        self.apply_service(
            request,
            queryset,
            lambda endpoint: services.webhook_endpoint_disable(endpoint=endpoint, reason=reason),
            _("Disabled"),
        )
        return None


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ServiceActionsMixin, admin.ModelAdmin):
    """The delivery log. The body is never shown: it holds the ids the receiving system knows
    the person by (and a correction's values), and is dropped once delivered."""

    list_display = ["created_at", "endpoint", "event_type", "status", "attempts",
                    "last_response_code", "last_attempt_at", "last_duration_ms", "delivered_at",
                    "customer_id"]  # fmt: skip
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["=customer_id", "=msg_id", "=event_id"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint__system"]
    fields = ["endpoint", "event_type", "event_id", "msg_id", "customer_id", "occurred_at",
              "data", "body_kept", "status", "attempts", "next_attempt_at", "first_attempt_at",
              "last_attempt_at", "last_response_code", "last_duration_ms", "last_error",
              "delivered_at", "replay_of", "created_at"]  # fmt: skip
    readonly_fields = fields
    actions = ["retry_now", "replay"]

    @admin.display(description=_("body kept"), boolean=True)
    def body_kept(self, delivery):
        return delivery.payload is not None

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda delivery: services.webhook_delivery_retry(delivery=delivery),
            _("Retrying"),
        )

    @admin.action(description=_("Replay (send the event again)"), permissions=["change"])
    def replay(self, request, queryset):
        self.apply_service(
            request,
            queryset.select_related("endpoint__system"),
            lambda delivery: services.webhook_delivery_replay(delivery=delivery),
            _("Replayed"),
        )


# ---------------------------------------------------------------------- propagation


def _task_age(task) -> str:
    days = (timezone.now() - task.created_at).days
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def _overdue(task) -> bool:
    """Open past the request's due date, or past PROPAGATION_OVERDUE_DAYS."""
    if task.is_closed:
        return False
    today = timezone.localdate()
    if task.due_on is not None and task.due_on < today:
        return True
    limit = datetime.timedelta(days=settings.PROPAGATION_OVERDUE_DAYS)
    return timezone.now() - task.created_at > limit


def _age_html(task):
    age = _task_age(task)
    if _overdue(task):
        return format_html(
            '<strong style="color:#fff;background:#ba2121;padding:0 .3em">{} ({})</strong>',
            age,
            _("overdue"),
        )
    return age


class PropagationTaskInline(admin.TabularInline):
    """On a privacy request's page (added through apps/core/admin_extensions.py): each system
    told of its erasure, correction or stop, the task's state and age."""

    model = PropagationTask
    fk_name = "privacy_request"
    extra = 0
    fields = ["system", "action", "state", "age", "done_at", "reason", "task_link"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("Systems holding a copy (propagation)")

    @admin.display(description=_("age"))
    def age(self, task):
        return _age_html(task)

    @admin.display(description=_("task"))
    def task_link(self, task):
        url = reverse("admin:integration_propagationtask_change", args=[task.pk])
        return format_html('<a href="{}">#{}</a>', url, task.pk)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("system")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OpenFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("manual", _("Open manual tasks")),
            ("open", _("All open tasks")),
            ("overdue", _("Overdue")),
        ]

    def queryset(self, request, queryset):
        State = PropagationTask.State
        open_states = [State.OPEN, State.SENT, State.CONFIRMING]
        if self.value() == "manual":
            return queryset.filter(state=State.OPEN)
        if self.value() == "open":
            return queryset.filter(state__in=open_states)
        if self.value() == "overdue":
            limit = timezone.now() - datetime.timedelta(days=settings.PROPAGATION_OVERDUE_DAYS)
            return queryset.filter(state__in=open_states).filter(
                Q(due_on__lt=timezone.localdate()) | Q(created_at__lt=limit)
            )
        return queryset


class CannotForm(forms.Form):
    reason = forms.CharField(label=_("why it cannot be done"), max_length=300)


@admin.register(PropagationTask)
class PropagationTaskAdmin(ServiceActionsMixin, admin.ModelAdmin):
    """The queue of propagation tasks: open manual tasks first (the "queue" filter), with
    "confirm done" and "cannot be done: reason". Ids only: the system and the person are
    found by their ids, a correction's values were in the webhook body, never here."""

    list_display = ["pk", "system", "action", "state", "request_link", "customer_id", "fields",
                    "age", "due_on", "done_at"]  # fmt: skip
    list_filter = [OpenFilter, "state", "action", "system"]
    search_fields = ["=privacy_request__reference", "=customer_id"]
    list_select_related = ["system", "privacy_request"]
    fields = ["system", "action", "state", "request_link", "customer_id", "fields", "delivery",
              "age", "due_on", "reason", "done_at", "done_by", "created_at"]  # fmt: skip
    readonly_fields = fields
    actions = ["confirm_done", "cannot_be_done"]
    ordering = ["created_at", "pk"]

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, task):
        return _age_html(task)

    @admin.display(description=_("privacy request"))
    def request_link(self, task):
        url = reverse(
            "admin:privacy_requests_privacyrequest_change", args=[task.privacy_request_id]
        )
        return format_html('<a href="{}">{}</a>', url, task.privacy_request.reference)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Confirm done (the system was told)"), permissions=["change"])
    def confirm_done(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda task: propagation.propagation_task_done(task_id=task.pk, by=request.user),
            _("Confirmed done"),
        )

    @admin.action(description=_("Cannot be done: record why"), permissions=["change"])
    def cannot_be_done(self, request, queryset):
        if "reason" not in request.POST:
            return TemplateResponse(
                request,
                "admin/integration/propagationtask/cannot.html",
                {
                    **self.admin_site.each_context(request),
                    "tasks": queryset,
                    "form": CannotForm(),
                    "opts": self.model._meta,
                    "title": _("Record why these tasks cannot be done"),
                },
            )
        form = CannotForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Say why it cannot be done."), messages.ERROR)
            return None
        reason = form.cleaned_data["reason"]
        self.apply_service(
            request,
            queryset,
            lambda task: propagation.propagation_task_cannot(
                task_id=task.pk, by=request.user, reason=reason
            ),
            _("Recorded as not possible"),
        )
        return None


admin_extension_add(
    model=PropagationTask._meta.get_field("privacy_request").related_model,
    inlines=[PropagationTaskInline],
)
