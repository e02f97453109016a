from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from apps.marketing.selectors import magazines_active


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    magazine = forms.ModelChoiceField(
        label=_("Mail magazine"), queryset=magazines_active(), empty_label=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Subscribe")))
