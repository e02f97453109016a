from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AccessLog
from apps.audit.selectors import access_log_csv
from apps.core.models import StaffAction


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only. The privacy officer filters it and downloads what the filters select."""

    list_display = ["at", "staff_user_id", "action", "model_label", "object_id", "ip_address"]
    list_filter = ["action", "model_label", "at"]
    search_fields = ["=staff_user_id", "=object_id", "=ip_address"]
    date_hierarchy = "at"
    readonly_fields = list_display
    fields = list_display
    change_list_template = "admin/audit/accesslog/change_list.html"
    show_full_result_count = False

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
class StaffActionAdmin(admin.ModelAdmin):
    """Read-only, beside the access log: what staff decided about whom, as ids."""

    list_display = ["at", "staff_user_id", "action", "model_label", "object_id"]
    list_filter = ["action", "model_label", "at"]
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
