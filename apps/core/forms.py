"""Form helpers shared by every app's views and admin."""

from django import forms
from django.core.exceptions import ValidationError


def form_apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form that fed it: an error naming one of the
    form's fields goes under that field, any other (no field, or a field the form does not
    show) at the top of the form, so no refusal is ever lost."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
