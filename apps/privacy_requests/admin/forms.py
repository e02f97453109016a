"""The form of a request staff record by hand (it came by letter, e-mail or phone)."""

import copy

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.customers.selectors import customers_not_erased
from apps.privacy_requests.forms import MemberRequestForm
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
    # Found by the search below (a POST: a name must not go into a URL or a log), or typed.
    customer_search = forms.CharField(
        label=_("Find the person on file"),
        max_length=100,
        required=False,
        help_text=_(
            "Name or kana, phone number or e-mail address, then “Find”. The customers found "
            "are recorded in the access log."
        ),
    )
    customer = forms.ModelChoiceField(
        label=_("Customer No. (empty if nobody on file matches)"),
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

    def show_found(self, customers, *, label) -> None:
        """After a search: the people found, to choose from, in place of the number."""
        field = self.fields["customer"]
        field.label = _("Person on file")
        field.widget = forms.RadioSelect()
        field.widget.choices = [("", _("Nobody on file matches"))] + [
            (customer.pk, label(customer)) for customer in customers
        ]

    def requested_changes(self) -> dict:
        """A correction or addition: the inputs filled in, one per field (empty: as is)."""
        return {
            name: self.cleaned_data[name]
            for name in MemberRequestForm.CHANGE_FIELDS
            if self.cleaned_data.get(name) not in (None, "")
        }


# A correction or addition, entered one input per field: the fields a member can change on
# My Page, with the member form's labels and checks.
for _name in MemberRequestForm.CHANGE_FIELDS:
    StaffRequestForm.base_fields[_name] = copy.deepcopy(MemberRequestForm.base_fields[_name])


class PersonSearchForm(forms.Form):
    """The person search of "record a request": what staff typed, parsed as any input is (a
    control character or an over-long term is a message, not a query)."""

    customer_search = forms.CharField(max_length=100, required=False, strip=True)
