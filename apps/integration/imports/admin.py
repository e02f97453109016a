"""The admin's import page, on the API client it imports for (privacy officer and admin).

Upload a file with its format -> the dry run's report (counts, rows in error by line, the
fields that would change; no values) -> choose the same file again and confirm -> the import.

The file is never kept: it lives in Django's temporary upload file for the length of a request
and is gone after it. The confirmation re-sends it, and its SHA-256 must be the one the dry run
read (kept in the session with the client, the format and the time), so what is imported is
exactly what was checked; a dry run older than ``IMPORT_UPLOAD_KEEP_MINUTES`` must be made again,
since the data it was checked against may have changed. The upload limit is
``IMPORT_UPLOAD_MAX_BYTES`` (larger files: ``manage.py import_customers``), enforced by the
project's size-limit handler before the file reaches disk.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from apps.core.uploads import SizeLimitUploadHandler
from apps.integration.imports.forms import ImportConfirmForm, ImportUploadForm
from apps.integration.imports.parsing import ImportFileError
from apps.integration.imports.service import customers_import
from apps.integration.models import ApiClient

SESSION_KEY = "customer_import"


class ImportSizeLimitUploadHandler(SizeLimitUploadHandler):
    """The project's upload size limit, at the import's own size."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = settings.IMPORT_UPLOAD_MAX_BYTES


def _digest(upload) -> str:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


class CustomerImportAdminMixin:
    """For ApiClientAdmin: the import page and the action that opens it."""

    def get_urls(self):
        return [
            path(
                "<int:pk>/import/",
                self.admin_site.admin_view(csrf_exempt(self.import_view)),
                name="integration_apiclient_import",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=gettext_lazy("Import customers from a file (dry run first)"))
    def import_customers(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one client."), messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse("admin:integration_apiclient_import", args=[queryset.get().pk])
        )

    def import_view(self, request, pk):
        # The upload handlers must be set before anything reads the body, so the view is
        # exempt from the CSRF middleware (which reads it) and protected right here instead.
        request.upload_handlers = [
            ImportSizeLimitUploadHandler(request),
            TemporaryFileUploadHandler(request),
        ]
        return csrf_protect(self._import_view)(request, pk)

    def _import_view(self, request, pk):
        client = get_object_or_404(ApiClient, pk=pk)
        # Imports write people's data and consents: the roles that manage API clients
        # (privacy officer, administrator), never support or marketing.
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "client": client,
            "title": _("Import customers for %(client)s") % {"client": client.name},
            "max_mb": settings.IMPORT_UPLOAD_MAX_BYTES // (1024 * 1024),
        }
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm(request, client, context)
        form = ImportUploadForm(
            request.POST or None, request.FILES or None, initial={"file_format": client.system}
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            file_format = form.cleaned_data["file_format"]
            digest = _digest(upload)
            try:
                report = customers_import(
                    client=client, file=upload.file, file_format=file_format, dry_run=True
                )
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                request.session[SESSION_KEY] = {
                    "client": client.pk,
                    "format": file_format,
                    "sha256": digest,
                    "at": time.time(),
                }
                return TemplateResponse(
                    request,
                    "admin/integration/import_preview.html",
                    {**context, "report": report, "form": ImportConfirmForm()},
                )
        return TemplateResponse(
            request, "admin/integration/import_upload.html", {**context, "form": form}
        )

    def _confirm(self, request, client, context):
        pending = request.session.get(SESSION_KEY) or {}
        form = ImportConfirmForm(request.POST, request.FILES)
        again = _("Check the file again (dry run) before importing it.")
        if pending.get("client") != client.pk:
            self.message_user(request, again, messages.ERROR)
            return HttpResponseRedirect(request.path)
        if time.time() - pending["at"] > settings.IMPORT_UPLOAD_KEEP_MINUTES * 60:
            del request.session[SESSION_KEY]
            self.message_user(
                request, _("The dry run is too old: %(again)s") % {"again": again}, messages.ERROR
            )
            return HttpResponseRedirect(request.path)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/integration/import_preview.html",
                {**context, "form": form, "report": None},
            )
        upload = form.cleaned_data["file"]
        if _digest(upload) != pending["sha256"]:
            form.add_error(
                "file", _("This is not the file the dry run checked. %(again)s") % {"again": again}
            )
            return TemplateResponse(
                request,
                "admin/integration/import_preview.html",
                {**context, "form": form, "report": None},
            )
        try:
            report = customers_import(
                client=client,
                file=upload.file,
                file_format=pending["format"],
                dry_run=False,
                actor=request.user,
            )
        except ImportFileError as exc:  # the same file read before: only if the code changed
            form.add_error("file", str(exc))
            return TemplateResponse(
                request,
                "admin/integration/import_preview.html",
                {**context, "form": form, "report": None},
            )
        del request.session[SESSION_KEY]
        if report.applied:
            self.log_change(
                request,
                client,
                f"Imported customers ({pending['format']}): {report.created} new, "
                f"{report.updated} updated, {report.consents_withdrawn} consents withdrawn.",
            )
        return TemplateResponse(
            request, "admin/integration/import_done.html", {**context, "report": report}
        )
