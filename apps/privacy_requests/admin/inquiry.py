"""Staff turn an inquiry from /contact/ into a privacy request. customers knows nothing of
privacy_requests: the action is added to the inquiry admin through apps.core.admin_extensions
(see this package's __init__)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from apps.privacy_requests import services
from apps.privacy_requests.forms import InquiryToRequestForm


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
                    in_eea=form.cleaned_data["in_eea"],
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
