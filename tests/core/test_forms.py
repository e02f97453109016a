"""apps.core.forms.form_apply_errors: the one way a service's ValidationError reaches a form."""

from django import forms
from django.core.exceptions import ValidationError

from apps.core.forms import form_apply_errors


class _Form(forms.Form):
    name = forms.CharField()


def _bound():
    form = _Form({"name": "x"})
    assert form.is_valid()
    return form


def test_a_field_error_goes_to_its_field_and_an_unknown_field_to_the_form():
    form = _bound()
    form_apply_errors(form, ValidationError({"name": "bad name", "elsewhere": "not on this form"}))
    assert form.errors["name"] == ["bad name"]
    assert form.non_field_errors() == ["not on this form"]


def test_an_error_without_a_field_goes_to_the_form():
    form = _bound()
    form_apply_errors(form, ValidationError(["first", "second"]))
    assert form.non_field_errors() == ["first", "second"]
    assert "name" not in form.errors
