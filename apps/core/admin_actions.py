from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _


class ServiceActionsMixin:
    """Admin actions that call a service once per selected object: a refusal (ValidationError)
    is shown for that object and the others go on."""

    def apply_service(self, request, queryset, apply, done_message, *, label=str) -> int:
        done = 0
        for obj in queryset.order_by("pk"):
            try:
                apply(obj)
            except ValidationError as exc:
                self.message_user(
                    request, f"{label(obj)}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"{done_message} ({done})", messages.SUCCESS)
        return done


class SelectedRowsField(forms.Field):
    """The ids of the rows ticked on a change list, each checked as the model's primary key
    would check it (type, and for integers the database's range)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, pk_field, **kwargs):
        self.pk_field = pk_field
        super().__init__(**kwargs)

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value else []
        cleaned = []
        for raw in values:
            try:
                ProhibitNullCharactersValidator()(raw)
                one = self.pk_field.to_python(raw)
                self.pk_field.run_validators(one)
            except (ValidationError, TypeError, ValueError) as exc:
                raise ValidationError(
                    _("The selection names no row: select the rows again."), code="invalid"
                ) from exc
            cleaned.append(one)
        return cleaned


class ActionSelectionForm(forms.Form):
    def __init__(self, data, *, model):
        super().__init__(data)
        self.fields[helpers.ACTION_CHECKBOX_NAME] = SelectedRowsField(
            pk_field=model._meta.pk, required=False
        )


class ActionSelectionMixin:
    """Django filters the change list by the posted selection as it comes, and a value that
    is no id of the model (text, NUL, digits past the column's range) raises a 500. The
    selection is parsed by a form first; a bad one is a message and runs nothing. The shop's
    admin site adds this to every ModelAdmin."""

    def response_action(self, request, queryset):
        form = ActionSelectionForm(request.POST, model=self.model)
        if not form.is_valid():
            for error in form.errors.get(helpers.ACTION_CHECKBOX_NAME, []):
                self.message_user(request, error, messages.WARNING)
            return None  # the change list again, as for an empty selection
        return super().response_action(request, queryset)
