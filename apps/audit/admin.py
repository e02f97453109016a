from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.audit.models import AccessLog
from apps.audit.selectors import access_log_csv


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
        changelist = self.get_changelist_instance(request)
        rows = access_log_csv(changelist.get_queryset(request))
        response = StreamingHttpResponse(rows, content_type="text/csv")
        name = f"access-log-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    export_csv_view.short_description = _("Export as CSV")
