"""The privacy officer's queue. Every action calls a service; nothing here changes state itself.

Support may view and create requests; only holders of `decide_privacyrequest` (the privacy
officer) move them on, and only holders of `view_identity_document` see documents.
"""

from __future__ import annotations

from csp.constants import NONCE
from csp.decorators import csp_update
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.audit.admin_mixins import _strip, record
from apps.audit.models import AccessLog
from apps.core.admin_actions import ServiceActionsMixin
from apps.core.dates import start_of_day
from apps.core.form_fields import JSONField
from apps.customers.admin import InquiryAdmin
from apps.customers.models import Customer
from apps.privacy_requests import selectors, services
from apps.privacy_requests.forms import (
    AnswerForm,
    ApproveForm,
    BackToRequestForm,
    CarryOutForm,
    CodeCheckForm,
    DocumentForm,
    ExtendForm,
    FeeForm,
    InquiryToRequestForm,
    ReasonsForm,
    WithdrawForm,
)
from apps.privacy_requests.models import (
    DISCLOSURE_KINDS,
    DUE_SOON_DAYS,
    ERASURE_KINDS,
    OPEN_STATUSES,
    Channel,
    DisclosureForm,
    IdentityDocument,
    IdentityMethod,
    Kind,
    Law,
    Notice,
    PrivacyRequest,
    RequesterType,
    RequestEvent,
    Status,
)
from apps.privacy_requests.services.carry_out import erasure_report_as_json
from apps.privacy_requests.services.notices import model_label, notice_render

DECIDE = "privacy_requests.decide_privacyrequest"
VIEW_DOCUMENTS = "privacy_requests.view_identity_document"


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("soon", _("Due within %(days)s days") % {"days": DUE_SOON_DAYS}),
            ("open", _("All open")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=selectors.privacy_requests_overdue())
        if self.value() == "soon":
            return queryset.filter(pk__in=selectors.privacy_requests_due_soon())
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset


class LettersFilter(admin.SimpleListFilter):
    title = _("letters")
    parameter_name = "letters"

    def lookups(self, request, model_admin):
        if not request.user.has_perm(DECIDE):
            return []  # only who may print and post them
        return [("to_post", _("Letters to post"))]

    def queryset(self, request, queryset):
        if self.value() == "to_post":
            unsent = Notice.objects.filter(privacy_request=OuterRef("pk"), sent_at=None)
            return queryset.filter(Exists(unsent), requester_email="")
        return queryset


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


class StaffRequestForm(forms.Form):
    """A request received by letter, e-mail or phone, entered by staff."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    law = forms.ChoiceField(label=_("Law"), choices=Law.choices, initial=Law.APPI)
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(c.value, c.label) for c in Channel if c != Channel.MYPAGE],
        initial=Channel.POSTAL_MAIL,
    )
    received_on = forms.DateField(
        label=_("Received on"), initial=timezone.localdate, help_text=_("Starts the deadline.")
    )
    requester_type = forms.ChoiceField(label=_("Requester"), choices=RequesterType.choices)
    customer = forms.ModelChoiceField(
        label=_("Customer id (empty if nobody on file matches)"),
        queryset=Customer.objects.exclude(status=Customer.Status.ERASED),
        required=False,
        widget=forms.NumberInput,
    )
    requester_name = forms.CharField(label=_("Requester name"), max_length=200)
    requester_email = forms.EmailField(label=_("Requester e-mail"), required=False)
    requester_postal_address = forms.CharField(
        label=_("Requester postal address"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    representative_name = forms.CharField(
        label=_("Representative name"), max_length=200, required=False
    )
    language = forms.ChoiceField(
        label=_("Language for notices"),
        choices=PrivacyRequest._meta.get_field("language").choices,
        initial="ja",
        required=False,
    )
    disclosure_form = forms.ChoiceField(
        label=_("Disclosure form"), choices=DisclosureForm.choices, required=False
    )
    details = forms.CharField(
        label=_("What was asked"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    requested_changes = JSONField(
        label=_('Correction/addition: new values as JSON, e.g. {"phone": "03-1234-5678"}'),
        required=False,
    )


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "kind",
        "law",
        "status",
        "fee_status",
        "received_at",
        "deadline",
        "channel",
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
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    ("kind", "law", "channel"),
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
                    "decision_reasons",
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
        "extend_deadline",
        "carry_out",
        "carry_out_again",
        "complete",
        "withdraw",
        "mark_letters_posted",
    ]

    change_form_template = "admin/privacy_requests/change_form.html"

    # Which actions a request in each status can take, offered as buttons on its page.
    ACTIONS_BY_STATUS = {
        Status.RECEIVED: ["start_verification", "withdraw"],
        Status.IDENTITY: ["send_code", "check_code", "verify_documents", "reject", "withdraw"],
        Status.FEE: ["record_fee", "reject", "withdraw"],
        Status.REVIEW: ["approve", "reject", "answer_no_data", "extend_deadline", "withdraw"],
        Status.APPROVED: ["carry_out", "extend_deadline", "withdraw"],
        # Carrying out waits on a worker: "carry out again" when it was lost or gave up.
        Status.CARRYING_OUT: ["carry_out_again", "complete"],
    }

    def _page_actions(self, request, obj) -> list[tuple[str, str]]:
        available = self.get_actions(request)
        names = list(self.ACTIONS_BY_STATUS.get(obj.status, []))
        if obj.law != Law.GDPR and "extend_deadline" in names:
            names.remove("extend_deadline")
        if obj.status == Status.CARRYING_OUT and not self._printable(obj):
            names.remove("complete")  # its task completes it
        if "carry_out_again" in names and (
            self._printable(obj) or not services.carry_out_again_allowed(obj)
        ):
            names.remove("carry_out_again")  # staff complete it by hand, or a run is going
        if selectors.letters_to_post(privacy_request=obj).exists():
            names.append("mark_letters_posted")
        return [(name, available[name][2]) for name in names if name in available]

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
        if request.user.has_perm(VIEW_DOCUMENTS):
            return self.inlines
        return [NoticeInline, RequestEventInline]

    @admin.display(description=_("person on file"))
    def person_on_file(self, obj):
        """Who the request is linked to, beside who wrote it, for staff who may see personal
        data: a request linked to the wrong customer would disclose or erase someone else."""
        customer = obj.customer
        if customer is None:
            return "—"
        on_file = format_html(
            "{} · {} · {}", customer.full_name or "—", customer.email or "—", customer.status
        )
        if customer.status == Customer.Status.ERASED:
            return on_file
        written = "".join(obj.requester_name.split())
        if obj.requester_type == RequesterType.PERSON and written != "".join(
            customer.full_name.split()
        ):
            return format_html(
                '{}<br><strong class="errornote">{}</strong>',
                on_file,
                _("The requester's name differs from the person on file: check the link."),
            )
        return on_file

    @admin.display(description=_("due"), ordering="due_on")
    def deadline(self, obj):
        if not obj.is_open:
            return format_html("{}", obj.due_on)
        if obj.is_overdue:
            return format_html(
                '<strong style="color:#fff;background:#ba2121;padding:0 .3em">{} ({})</strong>',
                obj.due_on,
                _("overdue"),
            )
        if obj.is_due_soon:
            return format_html(
                '<strong style="background:#ffc107;padding:0 .3em">{} ({})</strong>',
                obj.due_on,
                _("%d day(s) left") % obj.days_left,
            )
        return format_html("{}", obj.due_on)

    @admin.display(description=_("documents"))
    def documents_link(self, obj):
        if obj.pk is None or obj.status not in (Status.RECEIVED, Status.IDENTITY):
            return "—"
        url = reverse("admin:privacy_requests_privacyrequest_document_add", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Add a scanned document"))

    @staticmethod
    def _printable(obj) -> bool:
        """A letter can be printed once there is an answer: a purpose notification's generated
        text, or a paper disclosure that was verified, approved and is being carried out (its
        personal data is never printed before)."""
        if obj.kind == Kind.PURPOSE_NOTIFICATION:
            return bool(obj.answer)
        return (
            obj.kind in DISCLOSURE_KINDS
            and obj.disclosure_form == DisclosureForm.PAPER
            and obj.customer_id is not None
            and obj.status in (Status.CARRYING_OUT, Status.COMPLETED)
        )

    @admin.display(description=_("printable answer"))
    def printable_link(self, obj):
        if obj.pk is None or not self._printable(obj):
            return "—"
        url = reverse("admin:privacy_requests_privacyrequest_print", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("Printable page"))

    @admin.display(description=_("erasure preview (dry run)"))
    def erasure_preview(self, obj):
        if obj.pk is None or obj.kind not in ERASURE_KINDS:
            return "—"
        if obj.status not in (Status.REVIEW, Status.APPROVED):
            return "—"
        report = selectors.erasure_preview(privacy_request=obj)
        if report is None:
            return _("Nobody on file matches this request.")
        warning = ""
        if others := selectors.other_open_requests(privacy_request=obj):
            warning = format_html(
                '<p class="errornote">{}</p>',
                _(
                    "Other requests of this person are still open (%(references)s): answer, "
                    "reject or withdraw them before carrying out the erasure."
                )
                % {"references": ", ".join(others)},
            )
        return format_html("{}{}", warning, _report_table(erasure_report_as_json(report)))

    @admin.display(description=_("erasure report"))
    def erasure_result(self, obj):
        """What the erasure did, as stored on the request: the same table as the preview."""
        if not obj.erasure_report:
            return "—"
        return _report_table(obj.erasure_report)

    # ------------------------------------------------------------ add by hand

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StaffRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            received = start_of_day(data["received_on"])
            try:
                created = services.privacy_request_create(
                    kind=data["kind"],
                    law=data["law"],
                    channel=data["channel"],
                    requester_type=data["requester_type"],
                    customer=data["customer"],
                    requester_name=data["requester_name"],
                    requester_email=data["requester_email"],
                    requester_postal_address=data["requester_postal_address"],
                    representative_name=data["representative_name"],
                    disclosure_form=data["disclosure_form"],
                    details=data["details"],
                    requested_changes=data["requested_changes"] or {},
                    received_at=min(received, timezone.now()),
                    language=data["language"] or "ja",
                    by=request.user,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                self.message_user(
                    request, _("Request %s recorded.") % created.reference, messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse("admin:privacy_requests_privacyrequest_change", args=[created.pk])
                )
        return TemplateResponse(
            request,
            "admin/privacy_requests/form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record a privacy request"),
                "form": form,
                "opts": self.model._meta,
                "multipart": False,
            },
        )

    # ------------------------------------------------------------ extra views

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/documents/<int:document_pk>/",
                wrap(self.document_view),
                name="privacy_requests_privacyrequest_document",
            ),
            path(
                "<int:pk>/documents/add/",
                wrap(self.document_add_view),
                name="privacy_requests_privacyrequest_document_add",
            ),
            path(
                "<int:pk>/notices/<int:notice_pk>/letter/",
                wrap(csp_update({"style-src": [NONCE]})(self.letter_view)),
                name="privacy_requests_privacyrequest_letter",
            ),
            path(
                "<int:pk>/print/",
                # The letter's own <style>, allowed by a per-response nonce.
                wrap(csp_update({"style-src": [NONCE]})(self.print_view)),
                name="privacy_requests_privacyrequest_print",
            ),
            *super().get_urls(),
        ]

    def document_view(self, request, pk, document_pk):
        if not request.user.has_perm(VIEW_DOCUMENTS):
            raise PermissionDenied
        document = get_object_or_404(IdentityDocument, pk=document_pk, privacy_request_id=pk)
        if not document.file:
            raise Http404
        record(request, AccessLog.Action.VIEW, IdentityDocument, [document.pk])
        response = FileResponse(
            document.file.open("rb"),
            content_type=document.content_type,
            filename=f"document-{document.pk}",
        )
        response["Cache-Control"] = "no-store"
        return response

    def document_add_view(self, request, pk):
        if not (request.user.has_perm(VIEW_DOCUMENTS) and request.user.has_perm(DECIDE)):
            raise PermissionDenied
        privacy_request = get_object_or_404(PrivacyRequest, pk=pk)
        form = DocumentForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.identity_document_add(
                    privacy_request=privacy_request,
                    purpose=data["purpose"],
                    document_type=data["document_type"],
                    upload=data["file"],
                    issued_on=data["issued_on"],
                    number_masked=data["number_masked"],
                    by=request.user,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                self.message_user(request, _("Document stored."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:privacy_requests_privacyrequest_change", args=[pk])
                )
        return TemplateResponse(
            request,
            "admin/privacy_requests/form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Add a document to %s") % privacy_request.reference,
                "form": form,
                "opts": self.model._meta,
                "multipart": True,
            },
        )

    def print_view(self, request, pk):
        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        from django.conf import settings

        privacy_request = get_object_or_404(PrivacyRequest, pk=pk)
        if not self._printable(privacy_request):
            raise Http404
        context = {"privacy_request": privacy_request, "settings": settings}
        template = "privacy_requests/purpose_letter.html"
        if privacy_request.kind != Kind.PURPOSE_NOTIFICATION:
            template = "privacy_requests/disclosure.html"
            context["data"] = selectors.disclosure_data(privacy_request=privacy_request)
            # Everything held about the person, printed: logged like a CSV export.
            record(request, AccessLog.Action.EXPORT, Customer, [privacy_request.customer_id])
        # The letter is in the requester's language, whatever the admin's.
        with translation.override(privacy_request.language):
            return HttpResponse(render_to_string(template, context, request=request))

    def letter_view(self, request, pk, notice_pk):
        """A notice as a letter to post, for a requester without an e-mail address: their
        name and postal address, then the text the e-mail would have had."""
        from django.conf import settings

        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        notice = get_object_or_404(
            Notice.objects.select_related("privacy_request"), pk=notice_pk, privacy_request_id=pk
        )
        if notice.privacy_request.requester_email:
            raise Http404
        record(request, AccessLog.Action.VIEW, PrivacyRequest, [notice.privacy_request_id])
        subject, body = notice_render(notice, letter=True)
        context = {"notice": notice, "subject": subject, "body": body, "settings": settings}
        with translation.override(notice.privacy_request.language):
            return HttpResponse(
                render_to_string("privacy_requests/notice_letter.html", context, request=request)
            )

    # ------------------------------------------------------------ actions

    def _each(self, request, queryset, apply, done_message):
        return self.apply_service(
            request, queryset, apply, done_message, label=lambda pr: pr.reference
        )

    def _with_form(
        self, request, queryset, form_class, action, title, apply, done_message, extra=None
    ):
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._each(request, queryset, lambda pr: apply(pr, form.cleaned_data), done_message)
            return None
        return TemplateResponse(
            request,
            "admin/privacy_requests/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "queryset": queryset,
                "action": action,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "back_to_request": BackToRequestForm.pk_from(request.POST),
                **(extra or {}),
            },
        )

    @admin.action(description=_("Start identity verification"), permissions=["decide"])
    def start_verification(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda pr: services.privacy_request_start_verification(
                privacy_request=pr, by=request.user
            ),
            _("Verification started"),
        )

    @admin.action(
        description=_("Send a one-time code to the address on file"), permissions=["decide"]
    )
    def send_code(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda pr: services.privacy_request_send_code(privacy_request=pr, by=request.user),
            _("Code sent"),
        )

    @admin.action(description=_("Enter the one-time code"), permissions=["decide"])
    def check_code(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            CodeCheckForm,
            "check_code",
            _("Enter the one-time code"),
            lambda pr, data: services.privacy_request_check_code(
                privacy_request=pr, code=data["code"], by=request.user
            ),
            _("Identity verified"),
        )

    @admin.action(description=_("Identity verified by the documents"), permissions=["decide"])
    def verify_documents(self, request, queryset):
        if not request.user.has_perm(VIEW_DOCUMENTS):
            raise PermissionDenied
        self._each(
            request,
            queryset,
            lambda pr: services.privacy_request_verify_identity(
                privacy_request=pr, method=IdentityMethod.DOCUMENTS, by=request.user
            ),
            _("Identity verified"),
        )

    @admin.action(description=_("Record the fee (received or waived)"), permissions=["decide"])
    def record_fee(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            FeeForm,
            "record_fee",
            _("Record the fee"),
            lambda pr, data: services.privacy_request_record_fee(
                privacy_request=pr,
                fee_status=data["fee_status"],
                note=data["note"],
                by=request.user,
            ),
            _("Fee recorded"),
        )

    @admin.action(description=_("Approve (in full or in part)"), permissions=["decide"])
    def approve(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            ApproveForm,
            "approve",
            _("Approve"),
            lambda pr, data: services.privacy_request_approve(
                privacy_request=pr,
                partial_refusal_reasons=data["partial_refusal_reasons"],
                by=request.user,
            ),
            _("Approved"),
        )

    @admin.action(description=_("Reject, with reasons"), permissions=["decide"])
    def reject(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            ReasonsForm,
            "reject",
            _("Reject"),
            lambda pr, data: services.privacy_request_reject(
                privacy_request=pr, reasons=data["reasons"], by=request.user
            ),
            _("Rejected"),
        )

    @admin.action(description=_("Answer: no data held, with reasons"), permissions=["decide"])
    def answer_no_data(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            ReasonsForm,
            "answer_no_data",
            _("Answer: no data held"),
            lambda pr, data: services.privacy_request_answer_no_data(
                privacy_request=pr, reasons=data["reasons"], by=request.user
            ),
            _("Answered"),
        )

    @admin.action(description=_("Extend the deadline (GDPR), with reasons"), permissions=["decide"])
    def extend_deadline(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            ExtendForm,
            "extend_deadline",
            _("Extend the deadline"),
            lambda pr, data: services.privacy_request_extend(
                privacy_request=pr, months=data["months"], reasons=data["reasons"], by=request.user
            ),
            _("Deadline extended"),
        )

    @admin.action(description=_("Carry out (runs in the background)"), permissions=["decide"])
    def carry_out(self, request, queryset):
        # Nothing of this can be undone: a confirmation page first, with each erasure's preview.
        erasures = [pr for pr in queryset if pr.kind in ERASURE_KINDS]
        previews = [(pr, self.erasure_preview(pr)) for pr in erasures]
        # Refused anyway while the person's other requests are open: no button to press.
        blocked = [pr for pr in erasures if selectors.other_open_requests(privacy_request=pr)]
        return self._with_form(
            request,
            queryset,
            CarryOutForm,
            "carry_out",
            _("Carry out"),
            lambda pr, data: services.privacy_request_carry_out(
                privacy_request=pr, by=request.user
            ),
            _("Carrying out"),
            extra={"previews": previews, "blocked": blocked},
        )

    @admin.action(description=_("Carry out again (runs in the background)"), permissions=["decide"])
    def carry_out_again(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda pr: services.privacy_request_carry_out_again(
                privacy_request=pr, by=request.user
            ),
            _("Carrying out again"),
        )

    @admin.action(description=_("Complete (answer sent by post)"), permissions=["decide"])
    def complete(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            AnswerForm,
            "complete",
            _("Complete"),
            lambda pr, data: services.privacy_request_complete(
                privacy_request=pr, answer=data["answer"], by=request.user
            ),
            _("Completed"),
        )

    @admin.action(description=_("Mark the letters to post as posted"), permissions=["decide"])
    def mark_letters_posted(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda pr: _mark_letters_posted(pr, request.user),
            _("Letters marked as posted"),
        )

    @admin.action(description=_("Record a withdrawal by the requester"), permissions=["decide"])
    def withdraw(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            WithdrawForm,
            "withdraw",
            _("Record a withdrawal by the requester"),
            lambda pr, data: services.privacy_request_withdraw(
                privacy_request=pr, by=request.user, note=data["note"]
            ),
            pgettext_lazy("privacy request status", "Withdrawn"),
        )


def _report_table(report: dict):
    """An erasure report (`erasure_report_as_json`) as a table in people's words: what happens
    to which data, how many rows, and why and until when anything is kept."""
    rows = [
        (_("delete"), capfirst(model_label(label)), count, "", "")
        for label, count in report.get("deleted", {}).items()
        if count
    ]
    rows += [
        (_("anonymise"), capfirst(model_label(label)), count, "", "")
        for label, count in report.get("anonymised", {}).items()
        if count
    ]
    rows += [
        (_("keep"), capfirst(model_label(label)), count, gettext(why), until or "—")
        for label, (count, why, until) in report.get("kept", {}).items()
        if count
    ]
    return format_html(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
        _("what happens"),
        _("data"),
        _("rows"),
        _("why it is kept"),
        _("until"),
        format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        ),
    )


def _mark_letters_posted(privacy_request, by) -> None:
    letters = list(selectors.letters_to_post(privacy_request=privacy_request))
    if not letters:
        raise ValidationError(_("No letter is waiting to be posted."))
    for notice in letters:
        services.notice_mark_posted(notice_id=notice.pk, by=by)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# ------------------------------------------------------------------ from an inquiry


@admin.action(description=_("Turn into a privacy request"))
def create_privacy_request(modeladmin, request, queryset):
    if not request.user.has_perm("privacy_requests.add_privacyrequest"):
        raise PermissionDenied
    form = InquiryToRequestForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        for inquiry in queryset.order_by("pk"):
            try:
                created = services.privacy_request_create_from_inquiry(
                    inquiry=inquiry,
                    kind=form.cleaned_data["kind"],
                    law=form.cleaned_data["law"],
                    disclosure_form=form.cleaned_data["disclosure_form"],
                    by=request.user,
                )
            except ValidationError as exc:
                modeladmin.message_user(
                    request, f"#{inquiry.pk}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                modeladmin.message_user(
                    request, _("Request %s recorded.") % created.reference, messages.SUCCESS
                )
        return None
    return TemplateResponse(
        request,
        "admin/privacy_requests/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Turn inquiries into privacy requests"),
            "form": form,
            "queryset": queryset,
            "action": "create_privacy_request",
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


# customers knows nothing of privacy_requests: this app adds its action to the inquiry admin.
InquiryAdmin.actions = [*InquiryAdmin.actions, create_privacy_request]
