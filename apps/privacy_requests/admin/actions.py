"""The request admin's actions: each calls one service per selected request (a refusal is shown
for that request and the others go on); a step that needs input asks for it in a form first."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.privacy_requests import selectors, services
from apps.privacy_requests.admin.perms import VIEW_DOCUMENTS
from apps.privacy_requests.forms import (
    AlternativeMeasureForm,
    AnswerForm,
    ApproveForm,
    BackToRequestForm,
    CarryOutForm,
    CodeCheckForm,
    ExtendForm,
    FeeForm,
    ReasonsForm,
    WithdrawForm,
)
from apps.privacy_requests.models import ERASURE_KINDS, IdentityMethod


class RequestActionsMixin:
    """The steps of PrivacyRequestAdmin, named as the workflow's moves (services.workflow.MOVES)."""

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

    @admin.action(
        description=_("Record that the person is in the EU/EEA (the GDPR applies too)"),
        permissions=["decide"],
    )
    def record_in_eea(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda pr: services.privacy_request_record_in_eea(privacy_request=pr, by=request.user),
            _("Recorded: the GDPR applies too"),
        )

    @admin.action(
        description=_("Take an alternative measure instead (APPI Art. 35)"), permissions=["decide"]
    )
    def take_alternative_measure(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            AlternativeMeasureForm,
            "take_alternative_measure",
            _("Take an alternative measure instead"),
            lambda pr, data: services.privacy_request_take_alternative_measure(
                privacy_request=pr,
                measure=data["measure"],
                reasons=data["reasons"],
                by=request.user,
            ),
            _("Answered with an alternative measure"),
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
        blocked = [pr for pr in queryset if selectors.erasure_blocked_by(privacy_request=pr)]
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


def _mark_letters_posted(privacy_request, by) -> None:
    letters = list(selectors.letters_to_post(privacy_request=privacy_request))
    if not letters:
        raise ValidationError(_("No letter is waiting to be posted."))
    for notice in letters:
        services.notice_mark_posted(notice_id=notice.pk, by=by)
