from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from apps.marketing import content
from apps.marketing.models import Campaign, SuppressedAddress
from apps.marketing.selectors import magazines_active
from apps.marketing.suppression import MANUAL_REASONS


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    magazine = forms.ModelChoiceField(
        label=_("Mail magazine"), queryset=magazines_active(), empty_label=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Subscribe")))


class CampaignForm(forms.ModelForm):
    """The admin's campaign form: the HTML body is stored as it will be sent (reduced to the
    mail allow-list), and a placeholder where it would leak a reader's data is refused."""

    class Meta:
        model = Campaign
        fields = ["magazine", "subject", "body_text", "body_html", "scheduled_at"]
        help_texts = {
            "subject": _("Placeholders are not replaced in the subject."),
            "body_text": _(
                "{name} is replaced by the recipient's name, in text only (never inside a web "
                "address). The legal footer with the unsubscribe link is added."
            ),
            "body_html": _(
                "Optional. Same placeholders, in text only; {unsubscribe_url} may be the whole "
                'href of a link: href="{unsubscribe_url}". On saving, anything outside the '
                "mail allow-list is removed (scripts, event handlers, styles, links other than "
                "http, https and mailto): the preview shows what is sent."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        if "body_html" not in self.fields:  # a campaign past draft: read-only, nothing to check
            return cleaned
        raw_html = cleaned.get("body_html") or ""
        cleaned["body_html"] = content.html_clean(raw_html)
        problems = content.content_problems(
            subject=cleaned.get("subject") or "",
            body_text=cleaned.get("body_text") or "",
            body_html=cleaned["body_html"],
        )
        # Also what the allow-list drops: a placeholder in any attribute is a mistake to show.
        problems.setdefault("body_html", []).extend(content.html_problems(raw_html))
        for field, messages in problems.items():
            if messages:
                self.add_error(
                    field if field in self.fields else None, list(dict.fromkeys(messages))
                )
        return cleaned


class SuppressionAddForm(forms.Form):
    """Staff type an address to stop all mail magazines to it; only its keyed hash is kept."""

    address = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("Only a keyed hash of the address is stored; the address itself is not."),
        error_messages={"invalid": _("Enter a valid e-mail address (like name@example.com).")},
    )
    reason = forms.ChoiceField(
        label=_("Reason for the suppression"),
        choices=[(r.value, r.label) for r in SuppressedAddress.Reason if r in MANUAL_REASONS],
    )


class SuppressionCheckForm(forms.Form):
    address = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("Checked against the hashes and not stored."),
        error_messages={"invalid": _("Enter a valid e-mail address (like name@example.com).")},
    )


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


class EvidenceAddressForm(forms.Form):
    """The address whose record of consent the privacy officer exports (by POST: never in a
    URL or a server log)."""

    email = forms.EmailField(label=_("e-mail address"), max_length=254)

    def clean_email(self):
        from apps.marketing.evidence import people_for_address

        address = self.cleaned_data["email"].strip().lower()
        self.customer_ids = people_for_address(address=address)
        if not self.customer_ids:
            raise forms.ValidationError(
                _("Nobody with this address is known: there is no record of consent for it.")
            )
        return address
