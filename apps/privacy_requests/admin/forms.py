"""The form of a request staff record by hand (it came by letter, e-mail or phone)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.form_fields import JSONField
from apps.customers.selectors import customers_not_erased
from apps.privacy_requests.models import (
    Art35Ground,
    Channel,
    DisclosureForm,
    Kind,
    PrivacyRequest,
    RequesterType,
)


class StaffRequestForm(forms.Form):
    """A request received by letter, e-mail or phone, entered by staff."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    appi_ground = forms.ChoiceField(
        label=_("Ground (APPI Art. 35)"),
        choices=[("", _("Not given")), *[c for c in Art35Ground.choices if c[0]]],
        required=False,
        help_text=_("The grounds the law (APPI Art. 35) gives for these requests."),
    )
    in_eea = forms.BooleanField(
        label=_("The person is in the EU/EEA"),
        required=False,
        help_text=_(
            "APPI always applies; the GDPR as well for a person in the EU/EEA (an address on "
            "file there counts without this). Tick only what the request shows, e.g. a letter "
            "from Germany."
        ),
    )
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(c.value, c.label) for c in Channel if c != Channel.MYPAGE],
        initial=Channel.POSTAL_MAIL,
    )
    received_on = forms.DateField(
        label=_("Received on"), initial=timezone.localdate, help_text=_("Starts the deadline.")
    )
    requester_type = forms.ChoiceField(label=_("Requester"), choices=RequesterType.choices)
    customer = forms.ModelChoiceField(
        label=_("Customer id (empty if nobody on file matches)"),
        queryset=customers_not_erased(),
        required=False,
        widget=forms.NumberInput,
    )
    requester_name = forms.CharField(label=_("Requester name"), max_length=200)
    requester_email = forms.EmailField(label=_("Requester e-mail"), required=False)
    requester_postal_address = forms.CharField(
        label=_("Requester postal address"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    representative_name = forms.CharField(
        label=_("Representative name"), max_length=200, required=False
    )
    language = forms.ChoiceField(
        label=_("Language for notices"),
        choices=PrivacyRequest._meta.get_field("language").choices,
        initial="ja",
        required=False,
    )
    disclosure_form = forms.ChoiceField(
        label=_("Disclosure form"), choices=DisclosureForm.choices, required=False
    )
    details = forms.CharField(
        label=_("What was asked"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    requested_changes = JSONField(
        label=_('Correction/addition: new values as JSON, e.g. {"phone": "03-1234-5678"}'),
        required=False,
        help_text=_(
            'An address or an order\'s shipping snapshot too: "address:<address id>:<field>" '
            '(e.g. postal_code, line1), "order:<order number>:<field>" (ship_name, '
            "ship_postal_code, ship_address, ship_phone)."
        ),
    )
