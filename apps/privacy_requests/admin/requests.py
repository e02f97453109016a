"""The privacy officer's queue. Every action calls a service; nothing here changes state itself.

Support may view and create requests; only holders of `decide_privacyrequest` (the privacy
officer) move them on, and only holders of `view_identity_document` see documents.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.audit.admin_mixins import _strip
from apps.core.admin_actions import ServiceActionsMixin
from apps.core.admin_extensions import ExtensibleAdminMixin
from apps.core.admin_pagination import EstimatedCountPaginator
from apps.privacy_requests import selectors, services
from apps.privacy_requests.admin.actions import RequestActionsMixin
from apps.privacy_requests.admin.display import RequestDisplayMixin
from apps.privacy_requests.admin.filters import DeadlineFilter, LettersFilter
from apps.privacy_requests.admin.inlines import (
    IdentityDocumentInline,
    NoticeInline,
    RequestEventInline,
)
from apps.privacy_requests.admin.perms import DECIDE, VIEW_DOCUMENTS
from apps.privacy_requests.admin.views import RequestViewsMixin
from apps.privacy_requests.forms import BackToRequestForm
from apps.privacy_requests.law import ART35_KINDS
from apps.privacy_requests.models import Law, PrivacyRequest
from apps.privacy_requests.services.workflow import moves_from


class PrivacyRequestAdmin(
    # Upper apps add inlines here (integration: the systems told of an erasure, their tasks).
    ExtensibleAdminMixin,
    RequestActionsMixin,
    RequestViewsMixin,
    RequestDisplayMixin,
    ServiceActionsMixin,
    admin.ModelAdmin,
):
    # The queue: what it is, when it is due and where it stands first; the channel is a filter
    # only, so the list fits 1280 px (static/css/admin-layout.css).
    list_display = [
        "reference",
        "deadline",
        "status",
        "kind",
        "fee_status",
        "law",
        "received_at",
    ]
    list_filter = [
        DeadlineFilter,
        LettersFilter,
        "status",
        "kind",
        "law",
        "channel",
        "fee_status",
    ]
    search_fields = ["reference"]
    ordering = ["due_on", "pk"]
    inlines = [IdentityDocumentInline, NoticeInline, RequestEventInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    ("kind", "law", "in_eea", "channel"),
                    ("status", "deadline"),
                    ("extended_at", "extension_reasons"),
                    ("customer", "person_on_file"),
                    "requester_type",
                    "received_at",
                ]
            },
        ),
        (
            _("Requester"),
            {
                "fields": [
                    "requester_name",
                    "requester_email",
                    "requester_postal_address",
                    "representative_name",
                    "language",
                    "details",
                ]
            },
        ),
        (
            _("Identity and fee"),
            {
                "fields": [
                    ("identity_method", "identity_verified_at", "identity_verified_by"),
                    ("fee_status", "fee_amount"),
                    "documents_link",
                ]
            },
        ),
        (
            _("Decision and result"),
            {
                "fields": [
                    ("outcome", "decided_at"),
                    "appi_ground",
                    "decision_reasons",
                    "alternative_measure",
                    "requested_changes",
                    "applied_changes",
                    "disclosure_form",
                    "package_expires_at",
                    "printable_link",
                    "erasure_preview",
                    "erasure_result",
                    "restriction_result",
                    "answer",
                    "closed_at",
                ]
            },
        ),
    ]
    actions = [
        "start_verification",
        "send_code",
        "check_code",
        "verify_documents",
        "record_fee",
        "approve",
        "reject",
        "answer_no_data",
        "take_alternative_measure",
        "extend_deadline",
        "record_in_eea",
        "carry_out",
        "carry_out_again",
        "complete",
        "withdraw",
        "mark_letters_posted",
    ]

    change_form_template = "admin/privacy_requests/change_form.html"

    class Media:
        css = {"all": ["css/admin-layout.css"]}

    def _page_actions(self, request, obj) -> list[tuple[str, str]]:
        """The buttons on a request's page: the workflow's steps from its status (MOVES), less
        those its request would refuse, and the letters to post whatever its status."""
        available = self.get_actions(request)
        names = [name for name in moves_from(obj.status) if self._offered(name, obj)]
        if selectors.letters_to_post(privacy_request=obj).exists():
            names.append("mark_letters_posted")
        return [(name, available[name][2]) for name in names if name in available]

    def _offered(self, name: str, obj) -> bool:
        if name == "extend_deadline":
            return obj.law == Law.GDPR
        if name == "take_alternative_measure":
            return obj.kind in ART35_KINDS
        if name == "complete":
            return self._printable(obj)  # otherwise its task completes it
        if name == "carry_out_again":
            # Staff complete a printable answer by hand; and not while a run is going.
            return not self._printable(obj) and services.carry_out_again_allowed(obj)
        return True

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:  # the request the page shows, fetched once by Django
            context.update(
                page_actions=self._page_actions(request, obj),
                changelist_url=reverse("admin:privacy_requests_privacyrequest_changelist"),
                action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_action(self, request, queryset):
        """An action started from a request's own page comes back to that page."""
        response = super().response_action(request, queryset)
        back_to = BackToRequestForm.pk_from(request.POST)
        if isinstance(response, HttpResponseRedirect) and back_to is not None:
            return HttpResponseRedirect(
                reverse("admin:privacy_requests_privacyrequest_change", args=[back_to])
            )
        return response

    # ------------------------------------------------------------ display

    def get_fieldsets(self, request, obj=None):
        """Without the personal-data permission, the link to the customer, not the person;
        without the decision permission, no links to pages that would answer 403."""
        hidden = set()
        if not request.user.has_perm("audit.view_personal_data"):
            hidden.add("person_on_file")
        if not request.user.has_perm(DECIDE):
            hidden |= {"documents_link", "printable_link"}
        return [
            (name, {**options, "fields": _strip(options["fields"], hidden)})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in PrivacyRequest._meta.fields if f.name not in ("id",)] + [
            "deadline",
            "person_on_file",
            "documents_link",
            "printable_link",
            "erasure_preview",
            "erasure_result",
        ]

    def has_change_permission(self, request, obj=None):
        # Everything changes through actions (services); the change page is for reading.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return request.user.has_perm(DECIDE)

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)  # with those upper apps added
        if request.user.has_perm(VIEW_DOCUMENTS):
            return inlines
        return [inline for inline in inlines if inline is not IdentityDocumentInline]
