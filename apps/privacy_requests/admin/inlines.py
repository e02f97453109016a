"""What a request's page lists below it: its documents, its notices and its timeline."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.privacy_requests.admin.perms import DECIDE, VIEW_DOCUMENTS
from apps.privacy_requests.models import IdentityDocument, Notice, RequestEvent


class NoticeInline(admin.TabularInline):
    """Each notice to the requester: e-mailed by a task, or a letter staff print and post."""

    model = Notice
    extra = 0
    fields = ["kind", "created_at", "sent_at", "letter"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("Notices to the requester")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("privacy_requests.view_privacyrequest")

    def get_queryset(self, request):
        # Each row's letter column asks whether its request has an e-mail address.
        return super().get_queryset(request).select_related("privacy_request")

    def get_fields(self, request, obj=None):
        # The printable letter holds the requester's address: for who may decide and post.
        return self.fields if request.user.has_perm(DECIDE) else self.fields[:-1]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("letter"))
    def letter(self, notice):
        if notice.privacy_request.requester_email:
            return _("by e-mail")
        url = reverse(
            "admin:privacy_requests_privacyrequest_letter",
            args=[notice.privacy_request_id, notice.pk],
        )
        link = format_html('<a href="{}" target="_blank">{}</a>', url, _("Printable letter"))
        if notice.sent_at is None:
            return format_html("{} · <strong>{}</strong>", link, _("to post"))
        return link


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    fields = ["at", "step", "actor", "actor_user", "note"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("Timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor_user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Part of the request: whoever may see the request sees its timeline.
        return request.user.has_perm("privacy_requests.view_privacyrequest")

    def has_change_permission(self, request, obj=None):
        return False


class IdentityDocumentInline(admin.TabularInline):
    model = IdentityDocument
    extra = 0
    fields = [
        "purpose",
        "document_type",
        "issued_on",
        "number_masked",
        "uploaded_at",
        "checked_by",
        "checked_at",
        "purged_at",
        "view",
    ]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("checked_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_DOCUMENTS)

    @admin.display(description=_("file"))
    def view(self, document):
        if not document.file:
            return "—"
        url = reverse(
            "admin:privacy_requests_privacyrequest_document",
            args=[document.privacy_request_id, document.pk],
        )
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("View"))
