from django import forms
from django.utils.translation import gettext_lazy as _

from apps.consents.models import OFFLINE_CHANNELS, Purpose, Source
from apps.consents.selectors import purposes_active
from apps.customers.models import Customer


def consent_wording(purpose) -> str:
    """The exact text shown next to a consent box, as it is stored in the ledger."""
    return f"{purpose.name}: {purpose.description}"


class ConsentChoicesForm(forms.Form):
    """One unticked box per optional purpose (cookie categories have their own banner)."""

    prefix = "consent"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.purposes = list(purposes_active().filter(requires_opt_in=True, cookie_category=""))
        for purpose in self.purposes:
            self.fields[purpose.code] = forms.BooleanField(
                label=purpose.name,
                help_text=purpose.description,
                required=False,
            )

    def choices(self):
        """[(purpose, granted, wording)] for the boxes on this form."""
        return [
            (purpose, bool(self.cleaned_data.get(purpose.code)), consent_wording(purpose))
            for purpose in self.purposes
        ]


class CookieChoiceForm(forms.Form):
    CHOICES = [
        ("all", _("Accept all")),
        ("necessary", _("Necessary only")),
        ("custom", _("Save my choice")),
    ]
    choice = forms.ChoiceField(choices=CHOICES)
    analytics = forms.BooleanField(required=False)
    advertising = forms.BooleanField(required=False)
    next = forms.CharField(required=False, max_length=500)

    def categories(self) -> dict[str, bool]:
        choice = self.cleaned_data["choice"]
        if choice == "all":
            return {"analytics": True, "advertising": True}
        if choice == "necessary":
            return {"analytics": False, "advertising": False}
        return {
            "analytics": self.cleaned_data["analytics"],
            "advertising": self.cleaned_data["advertising"],
        }


class ReconfirmForm(forms.Form):
    """After a widening policy change: yes or no, per widened purpose."""

    def __init__(self, *args, states=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.states = list(states)
        for state in self.states:
            self.fields[state.purpose.code] = forms.TypedChoiceField(
                label=state.purpose.name,
                help_text=state.purpose.description,
                choices=[("yes", _("I agree")), ("no", _("I do not agree"))],
                widget=forms.RadioSelect,
                coerce=lambda v: v == "yes",
            )


class NextForm(forms.Form):
    """Where to go after a form (`?next=` or a hidden field): a path on this site. The view
    still checks the host; a bare word would be taken by `redirect()` for a URL name."""

    next = forms.CharField(required=False, max_length=2000)

    def clean_next(self):
        target = self.cleaned_data["next"]
        if target and not target.startswith("/"):
            # Never shown: the view goes to its fallback page instead.
            raise forms.ValidationError("not a path", code="invalid")
        return target


class ConsentToggleForm(forms.Form):
    """One button on /mypage/privacy/: agree to or withdraw from one optional purpose. Purposes
    the law lets us use without consent have no button and are refused here."""

    purpose = forms.ModelChoiceField(queryset=Purpose.objects.none(), to_field_name="code")
    action = forms.ChoiceField(choices=[("grant", _("Agree")), ("withdraw", _("Withdraw"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = purposes_active().filter(requires_opt_in=True)


class OfflineConsentForm(forms.Form):
    """Staff recording a consent given by phone, letter or at the shop counter."""

    customer = forms.IntegerField(
        label=_("customer number"), min_value=1, help_text=_("The number shown on the customer.")
    )
    purpose = forms.ModelChoiceField(
        label=_("purpose"), queryset=Purpose.objects.none(), to_field_name="code"
    )
    action = forms.ChoiceField(
        label=_("answer"), choices=[("grant", _("Granted")), ("withdraw", _("Withdrawn"))]
    )
    channel = forms.ChoiceField(
        label=_("channel"), choices=[(c.value, c.label) for c in map(Source, OFFLINE_CHANNELS)]
    )
    wording = forms.CharField(
        label=_("wording read out or signed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_("The exact words the person heard or signed, as they were."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = purposes_active().filter(requires_opt_in=True)

    def clean_customer(self):
        customer = Customer.objects.filter(
            pk=self.cleaned_data["customer"], status=Customer.Status.ACTIVE
        ).first()
        if customer is None:
            raise forms.ValidationError(_("No active customer has this number."))
        return customer
