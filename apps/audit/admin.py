from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AccessLog, model_name
from apps.audit.selectors import access_log_about_customer, access_log_csv
from apps.core.models import StaffAction
from apps.customers.models import User


class WhatFilter(admin.SimpleListFilter):
    """The model a row is about, by its name in the staff member's language (the stored label
    is an internal name)."""

    title = _("what was accessed")
    parameter_name = "model_label"

    def lookups(self, request, model_admin):
        labels = model_admin.model.objects.order_by().values_list("model_label", flat=True)
        return sorted(((label, model_name(label)) for label in set(labels)), key=lambda x: x[1])

    def queryset(self, request, queryset):
        return queryset.filter(model_label=self.value()) if self.value() else queryset


class _OnlyWhenChosen(admin.SimpleListFilter):
    """A filter reached by a link (a visit, a customer), shown only while it is applied."""

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, self.describe(value))] if value else []


class VisitFilter(_OnlyWhenChosen):
    title = _("visit")
    parameter_name = "visit"

    def describe(self, value):
        return _("this visit")

    def queryset(self, request, queryset):
        return queryset.filter(visit=self.value()) if self.value() else queryset


class CustomerFilter(_OnlyWhenChosen):
    """Who looked at this person: rows about the customer and about their addresses."""

    title = _("who looked at this person")
    parameter_name = "customer"

    def describe(self, value):
        return _("Customer No. %(number)s") % {"number": f"{int(value):06d}"}

    def value(self):
        value = super().value()
        return value if value and value.isdigit() and len(value) <= 18 else None

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(
            pk__in=access_log_about_customer(customer_id=int(self.value())).values("pk")
        )


class ReadableLogMixin:
    """Staff by their login, models by their name, each row's visit a link to the visit."""

    def get_queryset(self, request):
        staff = User.objects.filter(pk=OuterRef("staff_user_id")).values("email")[:1]
        return super().get_queryset(request).annotate(staff_email=Subquery(staff))

    @admin.display(description=_("staff member"), ordering="staff_user_id")
    def staff(self, obj):
        if getattr(obj, "staff_email", None):
            return obj.staff_email
        if obj.staff_user_id is None:  # a staff action done by the system
            return "-"
        return _("login No. %(number)s (deleted)") % {"number": f"{obj.staff_user_id:06d}"}

    @admin.display(description=_("what"), ordering="model_label")
    def what(self, obj):
        return model_name(obj.model_label)


@admin.register(AccessLog)
class AccessLogAdmin(ReadableLogMixin, admin.ModelAdmin):
    """Read-only. The privacy officer filters it and downloads what the filters select. One
    row per page view or write; the rows of one staff session share a visit."""

    list_display = ["at", "staff", "action", "what", "objects", "visit_link", "ip_address"]
    list_filter = ["action", WhatFilter, VisitFilter, CustomerFilter, "at"]
    search_fields = ["=staff_user_id", "=object_id", "=ip_address", "=visit"]
    date_hierarchy = "at"
    readonly_fields = ["at", "staff", "action", "what", "objects", "visit", "ip_address"]
    fields = readonly_fields
    change_list_template = "admin/audit/accesslog/change_list.html"
    show_full_result_count = False

    # Shown ids are cut here on the list; the row and its CSV hold them all.
    SHOWN_IDS = 8

    @admin.display(description=_("records"))
    def objects(self, obj):
        ids = obj.ids
        shown = ", ".join(ids[: self.SHOWN_IDS]) + (" …" if len(ids) > self.SHOWN_IDS else "")
        if len(ids) == 1:
            return _("No. %(ids)s") % {"ids": shown}
        return _("%(count)s listed: No. %(ids)s") % {"count": len(ids), "ids": shown}

    @admin.display(description=_("visit"), ordering="visit")
    def visit_link(self, obj):
        if not obj.visit:
            return "-"
        url = reverse("admin:audit_accesslog_changelist") + "?" + urlencode({"visit": obj.visit})
        return format_html('<a href="{}">{}</a>', url, _("this visit"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv_view),
                name="audit_accesslog_export",
            ),
            *super().get_urls(),
        ]

    def export_csv_view(self, request):
        """The rows the change list shows with the same filters, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:  # the list itself answers these with ?e=1
            return HttpResponseBadRequest(
                _("The filters are not valid: choose them again on the list."),
                content_type="text/plain; charset=utf-8",
            )
        rows = access_log_csv(changelist.get_queryset(request))
        response = StreamingHttpResponse(rows, content_type="text/csv")
        name = f"access-log-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    export_csv_view.short_description = _("Export as CSV")


@admin.register(StaffAction)
class StaffActionAdmin(ReadableLogMixin, admin.ModelAdmin):
    """Read-only, beside the access log: what staff decided about whom, as ids."""

    list_display = ["at", "staff", "action", "what", "object_id"]
    list_filter = ["action", WhatFilter, "at"]
    search_fields = ["=staff_user_id", "=object_id"]
    date_hierarchy = "at"
    readonly_fields = list_display
    fields = list_display
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShopTOTPDeviceAdmin(TOTPDeviceAdmin):
    """django-otp's own, but a device id that names nothing is a 404: its views fetch the
    device with `.get()` and answered 500."""

    def config_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)


# django_otp comes before this app in INSTALLED_APPS, so its admin is registered by now.
admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, ShopTOTPDeviceAdmin)
