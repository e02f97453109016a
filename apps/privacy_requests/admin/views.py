"""The request admin's own pages: a request recorded by hand, an identity document (viewed and
added), the printable answer and a notice as a letter to post."""

from csp.constants import NONCE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from apps.core.dates import start_of_day
from apps.core.forms import form_apply_errors
from apps.customers.selectors import customers_find
from apps.privacy_requests import selectors, services
from apps.privacy_requests.admin.forms import PersonSearchForm, StaffRequestForm
from apps.privacy_requests.admin.perms import DECIDE, VIEW_DOCUMENTS
from apps.privacy_requests.forms import DocumentForm
from apps.privacy_requests.models import IdentityDocument, Kind, Notice, PrivacyRequest
from apps.privacy_requests.services.notices import notice_render


class RequestViewsMixin:
    """The pages of PrivacyRequestAdmin beyond Django's list and change form."""

    # ------------------------------------------------------------ add by hand

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StaffRequestForm(request.POST or None)
        found = None
        if request.method == "POST" and "_find" in request.POST:
            # A search, not a save: the form comes back as typed, with the people found.
            form = StaffRequestForm(initial=request.POST.dict())
            search = PersonSearchForm(request.POST)
            if search.is_valid():
                found = self._find_people(request, search.cleaned_data["customer_search"])
                form.show_found(found, label=self._person_label(request))
            else:
                found = []
                for errors in search.errors.values():
                    self.message_user(request, " ".join(errors), messages.ERROR)
        elif request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            received = start_of_day(data["received_on"])
            try:
                created = services.privacy_request_create(
                    kind=data["kind"],
                    in_eea=data["in_eea"],
                    appi_ground=data["appi_ground"],
                    channel=data["channel"],
                    requester_type=data["requester_type"],
                    customer=data["customer"],
                    requester_name=data["requester_name"],
                    requester_email=data["requester_email"],
                    requester_postal_address=data["requester_postal_address"],
                    representative_name=data["representative_name"],
                    disclosure_form=data["disclosure_form"],
                    details=data["details"],
                    requested_changes=form.requested_changes(),
                    received_at=min(received, timezone.now()),
                    language=data["language"] or "ja",
                    by=request.user,
                )
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                self.message_user(
                    request, _("Request %s recorded.") % created.reference, messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse("admin:privacy_requests_privacyrequest_change", args=[created.pk])
                )
        return TemplateResponse(
            request,
            "admin/privacy_requests/record.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record a privacy request"),
                "form": form,
                "found": found,
                "opts": self.model._meta,
                "multipart": False,
            },
        )

    def _find_people(self, request, term: str) -> list:
        """The customers a search finds, on the access log as a view of them (ids only; the
        term itself is neither logged nor put in a URL)."""
        found = customers_find(term=term)
        customer_model = PrivacyRequest._meta.get_field("customer").related_model
        self.log_view(request, customer_model, [customer.pk for customer in found])
        return found

    @staticmethod
    def _person_label(request):
        """How a person found is shown: enough to tell namesakes apart, for staff who may see
        personal data; the customer number alone for anyone else."""
        if not request.user.has_perm("audit.view_personal_data"):
            return str

        def label(customer):
            parts = [str(customer), customer.full_name, customer.full_name_kana]
            parts += [str(customer.date_of_birth or ""), customer.phone, customer.email]
            return " · ".join(part for part in parts if part)

        return label

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
        self.log_view(request, IdentityDocument, [document.pk])
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
                form_apply_errors(form, exc)
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
        privacy_request = get_object_or_404(PrivacyRequest, pk=pk)
        if not self._printable(privacy_request):
            raise Http404
        context = {"privacy_request": privacy_request, "settings": settings}
        template = "privacy_requests/purpose_letter.html"
        if privacy_request.kind != Kind.PURPOSE_NOTIFICATION:
            template = "privacy_requests/disclosure.html"
            context["data"] = selectors.disclosure_data(privacy_request=privacy_request)
            # Everything held about the person, printed: logged like a CSV export.
            self.log_export(
                request,
                PrivacyRequest._meta.get_field("customer").related_model,
                [privacy_request.customer_id],
            )
        # The letter is in the requester's language, whatever the admin's.
        with translation.override(privacy_request.language):
            return HttpResponse(render_to_string(template, context, request=request))

    def letter_view(self, request, pk, notice_pk):
        """A notice as a letter to post, for a requester without an e-mail address: their
        name and postal address, then the text the e-mail would have had."""
        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        notice = get_object_or_404(
            Notice.objects.select_related("privacy_request"), pk=notice_pk, privacy_request_id=pk
        )
        if notice.privacy_request.requester_email:
            raise Http404
        self.log_view(request, PrivacyRequest, [notice.privacy_request_id])
        subject, body = notice_render(notice, letter=True)
        context = {"notice": notice, "subject": subject, "body": body, "settings": settings}
        with translation.override(notice.privacy_request.language):
            return HttpResponse(
                render_to_string("privacy_requests/notice_letter.html", context, request=request)
            )
