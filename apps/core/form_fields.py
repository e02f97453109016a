"""Form fields that fix how Django's own ones treat hostile input."""

from django import forms
from django.core.exceptions import ValidationError


class JSONField(forms.JSONField):
    """Django's, but JSON that Python refuses to turn into values (an integer of more than
    4,300 digits raises ValueError, not JSONDecodeError) is an invalid value, not a 500."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValueError as exc:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from exc

    def bound_data(self, data, initial):
        # Re-showing the form after an error parses the typed text again.
        try:
            return super().bound_data(data, initial)
        except ValueError:
            return forms.fields.InvalidJSONInput(data)
