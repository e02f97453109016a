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


class MemberSubscriptionForm(forms.Form):
    """One button of the subscriptions section on /mypage/privacy/."""

    magazine = forms.ModelChoiceField(queryset=magazines_active())
    action = forms.ChoiceField(
        choices=[
            ("subscribe", _("Subscribe")),
            ("unsubscribe", _("Unsubscribe")),
            ("reconfirm", _("Send confirmation")),
        ]
    )


class OneClickUnsubscribeForm(forms.Form):
    """The body of an RFC 8058 one-click POST, `List-Unsubscribe=One-Click`: a mail client
    expects a bare 200, a person who pressed our button expects the page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not a Python name, so not a declared field.
        self.fields["List-Unsubscribe"] = forms.CharField(required=False, max_length=20)

    def is_one_click(self) -> bool:
        return self.is_valid() and self.cleaned_data["List-Unsubscribe"] == "One-Click"


class CampaignPreviewForm(forms.Form):
    """The sample name staff type on a campaign's preview page."""

    name = forms.CharField(label=_("Preview with the name"), required=False, max_length=100)
