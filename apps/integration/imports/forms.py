"""The admin import page's forms: a file and its format, then the same file to confirm."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.integration.imports.formats import FORMATS


def _size_checked(upload):
    limit = settings.IMPORT_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise forms.ValidationError(
            _(
                "The file is too large: at most %(mb)d MB here. Import a larger file with "
                "manage.py import_customers."
            ),
            params={"mb": limit // (1024 * 1024)},
            code="too_large",
        )
    if upload.size == 0:
        raise forms.ValidationError(_("The file is empty."), code="empty")
    return upload


class ImportUploadForm(forms.Form):
    file_format = forms.ChoiceField(
        label=_("format"),
        choices=[(code, fmt.label) for code, fmt in FORMATS.items()],
    )
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args, initial=None, **kwargs):
        # The client's system suggests the format (an "own storefront" client: the generic one).
        if initial and initial.get("file_format") not in FORMATS:
            initial = {**initial, "file_format": "generic"}
        super().__init__(*args, initial=initial, **kwargs)

    def clean_file(self):
        return _size_checked(self.cleaned_data["file"])


class ImportConfirmForm(forms.Form):
    file = forms.FileField(
        label=_("the same file again"),
        help_text=_("The file is not kept on the server: choose it again to import it."),
    )

    def clean_file(self):
        return _size_checked(self.cleaned_data["file"])
