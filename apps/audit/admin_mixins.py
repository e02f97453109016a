"""What the shop's admin site adds to every ModelAdmin of a model holding personal data
(any model listed by the personal-data registry's ``covered_fields()``, so apps added later
are covered without touching their admin):

- an access-log row for every view (change list and change form, including inline rows),
  addition, change, deletion and export, holding ids only;
- for staff without ``audit.view_personal_data`` (e.g. Marketing), the personal fields are
  removed from lists, forms, searches and filters, and inlines of such models are dropped;
- an "export selected as CSV" action for staff with ``audit.export_personal_data``.
"""

from __future__ import annotations

import functools

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from apps.audit.models import AccessLog
from apps.audit.selectors import (
    access_log_who_looked,
    csv_rows,
    holds_personal_data,
    personal_fields_of,
)
from apps.audit.services import access_log_record, access_log_visit_key
from apps.core.security import client_ip
from apps.customers.models import Customer

NEVER_EXPORTED = {"password"}


def record(request, action: str, model, object_ids) -> int:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return 0
    session = getattr(request, "session", None)
    return access_log_record(
        staff_user_id=request.user.pk,
        action=action,
        model_label=model._meta.label,
        object_ids=object_ids,
        ip_address=client_ip(request),
        visit=access_log_visit_key(session.session_key if session is not None else None),
    )


def _who_looked(object_id) -> dict:
    """For the privacy officer on a customer's page: who looked at this person, and the link
    to every row of the access log about them."""
    if not str(object_id).isdigit() or len(str(object_id)) > 18:  # no such customer
        return {}
    url = reverse("admin:audit_accesslog_changelist") + "?" + urlencode({"customer": object_id})
    return {
        "who_looked": access_log_who_looked(customer_id=int(object_id)),
        "who_looked_url": url,
    }


def _strip(fields, hidden):
    """Remove hidden names from a fields spec that may hold tuples (fields on one line)."""
    kept = []
    for item in fields:
        if isinstance(item, list | tuple):
            inner = [name for name in item if name not in hidden]
            if inner:
                kept.append(tuple(inner))
        elif item not in hidden:
            kept.append(item)
    return kept


class AuditedAdminMixin:
    # ------------------------------------------------------------------ who sees what

    def _audited(self) -> bool:
        return holds_personal_data(self.model)

    def _hidden_fields(self, request) -> set[str]:
        if request.user.has_perm("audit.view_personal_data"):
            return set()
        return personal_fields_of(self.model)

    def get_list_display(self, request):
        hidden = self._hidden_fields(request)
        shown = [name for name in super().get_list_display(request) if name not in hidden]
        return shown or ["pk"]

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if links:
            links = [name for name in links if name in list_display] or list_display[:1]
        return links

    def get_search_fields(self, request):
        hidden = self._hidden_fields(request)
        return [
            name
            for name in super().get_search_fields(request)
            if name.lstrip("^=@").split("__")[0] not in hidden
        ]

    def get_list_filter(self, request):
        hidden = self._hidden_fields(request)
        return [
            f for f in super().get_list_filter(request) if not (isinstance(f, str) and f in hidden)
        ]

    def get_fields(self, request, obj=None):
        return _strip(super().get_fields(request, obj), self._hidden_fields(request))

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden_fields(request)
        fieldsets = []
        for title, options in super().get_fieldsets(request, obj):
            fields = _strip(options.get("fields", ()), hidden)
            if fields:
                fieldsets.append((title, {**options, "fields": fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        hidden = self._hidden_fields(request)
        return [name for name in super().get_readonly_fields(request, obj) if name not in hidden]

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        if request.user.has_perm("audit.view_personal_data"):
            return inlines
        return [inline for inline in inlines if not holds_personal_data(inline.model)]

    # ------------------------------------------------------------------ views

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if self._audited() and "cl" in context and response.status_code == 200:
            record(
                request,
                AccessLog.Action.VIEW,
                self.model,
                [o.pk for o in context["cl"].result_list],
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.model is Customer and request.user.has_perm("audit.view_accesslog"):
            extra_context = {**(extra_context or {}), **_who_looked(object_id)}
        response = super().change_view(request, object_id, form_url, extra_context)
        context = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and context.get("original") is not None:
            if self._audited():
                record(request, AccessLog.Action.VIEW, self.model, [context["original"].pk])
            for inline in context.get("inline_admin_formsets", []):
                formset = inline.formset
                if holds_personal_data(formset.model):
                    ids = [form.instance.pk for form in formset.initial_forms]
                    record(request, AccessLog.Action.VIEW, formset.model, ids)
        return response

    def log_view(self, request, model, object_ids) -> int:
        """For an admin's own page showing personal data (a scanned document, a letter): the
        access-log row of the view, as ``log_export`` is for an export."""
        return record(request, AccessLog.Action.VIEW, model, object_ids)

    def log_export(self, request, model, object_ids) -> int:
        """For an admin's own export view (e.g. the provision records of one person): the
        access-log row of the export, so the app that owns the view need not know this one."""
        return record(request, AccessLog.Action.EXPORT, model, object_ids)

    # ------------------------------------------------------------------ writes

    def log_addition(self, request, obj, message):
        if self._audited():
            record(request, AccessLog.Action.ADD, self.model, [obj.pk])
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if self._audited():
            record(request, AccessLog.Action.CHANGE, self.model, [obj.pk])
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        if self._audited():
            record(request, AccessLog.Action.DELETE, self.model, [obj.pk for obj in queryset])
        return super().log_deletions(request, queryset)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        deleted = [f.instance.pk for f in formset.deleted_forms if f.instance.pk is not None]
        super().save_formset(request, form, formset, change)
        if holds_personal_data(model):
            new = getattr(formset, "new_objects", [])
            record(request, AccessLog.Action.ADD, model, [o.pk for o in new])
            changed = [o.pk for o, _fields in getattr(formset, "changed_objects", [])]
            record(request, AccessLog.Action.CHANGE, model, changed)
            record(request, AccessLog.Action.DELETE, model, deleted)

    # ------------------------------------------------------------------ actions

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(
            "audit.export_personal_data"
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._audited():
            return actions
        audited = {}
        for name, (func, action_name, description) in actions.items():
            # delete_selected writes its rows through log_deletions.
            audited[name] = (
                (func if name == "delete_selected" else _audit_action(func)),
                action_name,
                description,
            )
        if self.has_export_permission(request):
            audited["export_personal_data_csv"] = (
                _export_personal_data_csv,
                "export_personal_data_csv",
                _("Export selected as CSV (recorded in the access log)"),
            )
        return audited


def _audit_action(func):
    """A custom action that completes (returns None) counts as a change of every selected row;
    one that answers with a page (an intermediate form) changed nothing yet."""

    @functools.wraps(func)
    def wrapper(modeladmin, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        result = func(modeladmin, request, queryset)
        if result is None:
            record(request, AccessLog.Action.CHANGE, modeladmin.model, ids)
        return result

    return wrapper


def _export_personal_data_csv(modeladmin, request, queryset):
    hidden = modeladmin._hidden_fields(request) | NEVER_EXPORTED
    columns = tuple(
        f.attname for f in modeladmin.model._meta.concrete_fields if f.name not in hidden
    )
    queryset = queryset.order_by("pk")
    record(
        request, AccessLog.Action.EXPORT, modeladmin.model, queryset.values_list("pk", flat=True)
    )
    filename = f"{modeladmin.model._meta.label_lower}-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(csv_rows(queryset, columns), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_export_personal_data_csv.short_description = _("Export selected as CSV")
