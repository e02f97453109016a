from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from apps.customers.forms import NameFieldsMixin
from apps.customers.selectors import address_list
from apps.customers.validators import validate_date_of_birth
from apps.privacy_requests.law import ART35_KINDS
from apps.privacy_requests.models import (
    CHANGE_KINDS,
    DISCLOSURE_KINDS,
    Art35Ground,
    DisclosureForm,
    IdentityDocument,
    Kind,
)


def show_if(name: str, values) -> dict:
    """Attributes for a crispy wrapper that static/js/site.js shows only while the form's
    field `name` holds one of `values`. Without JavaScript every wrapper shows, under its
    heading, and the form's clean() keeps only the chosen kind's fields."""
    return {"data_show_if_name": name, "data_show_if_values": " ".join(sorted(values))}


def _helper(label) -> FormHelper:
    helper = FormHelper()
    helper.form_method = "post"
    helper.add_input(Submit("submit", label))
    return helper


class MemberRequestForm(NameFieldsMixin, forms.Form):
    """A member's request from My Page. Requested changes are validated like the profile page."""

    kind = forms.ChoiceField(
        label=_("What do you request?"),
        choices=[("", _("Choose…")), *Kind.choices],
        error_messages={"required": _("Choose what you request.")},
    )
    appi_ground = forms.ChoiceField(
        label=_("Why (for a stop of use, an erasure or a stop of provision)"),
        choices=[("", _("Not given")), *[c for c in Art35Ground.choices if c[0]]],
        required=False,
        help_text=_("The grounds the law (APPI Art. 35) gives for these requests."),
    )
    disclosure_form = forms.ChoiceField(
        label=_("How should we disclose it?"),
        choices=[c for c in DisclosureForm.choices if c[0]],
        required=False,
        initial=DisclosureForm.ELECTRONIC,
    )
    postal_address = forms.ModelChoiceField(
        label=_("Where should we post it?"),
        queryset=None,  # the member's own, set in __init__
        required=False,
        help_text=_("Only for a disclosure on paper: one of your saved addresses."),
    )
    details = forms.CharField(
        label=_("Details (optional)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )
    # Correction / addition: the new values. Empty means "leave as is".
    family_name = forms.CharField(label=_("New family name"), max_length=100, required=False)
    given_name = forms.CharField(label=_("New given name"), max_length=100, required=False)
    family_name_kana = forms.CharField(
        label=_("New family name (kana)"), max_length=100, required=False
    )
    given_name_kana = forms.CharField(
        label=_("New given name (kana)"), max_length=100, required=False
    )
    phone = forms.CharField(label=_("New phone"), max_length=20, required=False)
    date_of_birth = forms.DateField(
        label=_("New date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_of_birth],
    )
    email = forms.EmailField(label=_("New e-mail address"), required=False)

    CHANGE_FIELDS = (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "phone",
        "date_of_birth",
        "email",
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        addresses = address_list(customer=customer)
        self.fields["postal_address"].queryset = addresses
        self.fields["postal_address"].label_from_instance = lambda a: a.one_line
        # No address is pre-selected: one goes on an envelope only for a paper disclosure,
        # and then the member picks it.
        self.helper = _helper(_("Send request"))
        self.helper.layout = Layout(
            "kind",
            Div("appi_ground", **show_if("kind", ART35_KINDS)),
            Fieldset(
                _("Only for a disclosure: how we send it"),
                "disclosure_form",
                Div("postal_address", **show_if("disclosure_form", [DisclosureForm.PAPER])),
                **show_if("kind", DISCLOSURE_KINDS),
            ),
            "details",
            Fieldset(
                _("Only for a correction or an addition: the new values"),
                *self.CHANGE_FIELDS,
                **show_if("kind", CHANGE_KINDS),
            ),
        )

    def _drop_fields_of_other_kinds(self, kind) -> None:
        """Fields of another kind (filled in without JavaScript, or left behind after changing
        the kind) are neither validated nor kept."""
        dropped = []
        if kind not in DISCLOSURE_KINDS:
            dropped += ["disclosure_form", "postal_address"]
        if kind not in CHANGE_KINDS:
            dropped += list(self.CHANGE_FIELDS)
        for name in dropped:
            self.errors.pop(name, None)
            self.cleaned_data[name] = None if name in ("postal_address", "date_of_birth") else ""

    def clean(self):
        cleaned = super().clean()
        # Whether the GDPR's own rights apply is the shop's rule (the address on file), checked
        # by the service; its message comes back on "kind".
        kind = cleaned.get("kind")
        if kind:
            self._drop_fields_of_other_kinds(kind)
        if kind in DISCLOSURE_KINDS and not cleaned.get("disclosure_form"):
            self.add_error("disclosure_form", _("Choose electronic or paper form."))
        paper = kind in DISCLOSURE_KINDS and cleaned.get("disclosure_form") == DisclosureForm.PAPER
        if paper and not cleaned.get("postal_address") and "postal_address" not in self.errors:
            self.add_error(
                "postal_address",
                _("Choose the address to post it to (add one under Addresses first)."),
            )
        bad_values = any(name in self.errors for name in self.CHANGE_FIELDS)
        if kind in CHANGE_KINDS and not self.requested_changes() and not bad_values:
            self.add_error(None, _("Enter the new values of the data to correct or add."))
        return cleaned

    def postal_address_text(self) -> str:
        """The chosen address as it goes on the envelope, for a paper disclosure only."""
        address = self.cleaned_data.get("postal_address")
        if address is None or self.cleaned_data.get("disclosure_form") != DisclosureForm.PAPER:
            return ""
        return address.one_line

    def requested_changes(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in self.CHANGE_FIELDS
            if self.cleaned_data.get(name) not in (None, "")
        }


class KindFromLinkForm(forms.Form):
    """`?kind=` on a link to the request form (from the privacy notice): preselects the kind."""

    kind = forms.ChoiceField(choices=Kind.choices, required=False)


class WithdrawConfirmForm(forms.Form):
    confirm = forms.ChoiceField(choices=[("yes", _("Yes, withdraw it"))])


class CodeForm(forms.Form):
    code = forms.CharField(label=_("One-time code"), max_length=6, min_length=6)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Verify"))


# ------------------------------------------------------------------ admin action forms


class BackToRequestForm(forms.Form):
    """An action started from a request's own page names that request, to come back to it."""

    back_to_request = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    @classmethod
    def pk_from(cls, data) -> int | None:
        form = cls(data)
        return form.cleaned_data["back_to_request"] if form.is_valid() else None


class ReasonsForm(forms.Form):
    reasons = forms.CharField(
        label=_("Reasons (sent to the requester)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        max_length=5000,
    )


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"),
        choices=[(1, _("1 month")), (2, _("2 months"))],
        coerce=int,
        initial=2,
    )
    reasons = forms.CharField(
        label=_("Reasons (sent to the requester)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        max_length=5000,
    )


class ApproveForm(forms.Form):
    partial_refusal_reasons = forms.CharField(
        label=_("If refused in part: what is refused and why (sent to the requester)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        max_length=5000,
        required=False,
    )


class FeeForm(forms.Form):
    fee_status = forms.ChoiceField(
        label=_("Fee"), choices=[("received", _("Fee received")), ("waived", _("Fee waived"))]
    )
    note = forms.CharField(label=_("Note (e.g. registered cash mail no.)"), required=False)


class CarryOutForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked what will be done; it cannot be undone."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("How the requester withdrew it (e.g. letter of 2026-11-20, phone call)"),
        max_length=500,
    )
    confirm = forms.BooleanField(
        label=_("The requester asked to withdraw it; they will be told."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer (sent with the completion notice)"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 70}),
        max_length=10000,
        required=False,
    )


class AlternativeMeasureForm(forms.Form):
    reasons = forms.CharField(
        label=_("Why doing what was asked is difficult (sent to the requester)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        max_length=5000,
    )
    measure = forms.CharField(
        label=_("What is done instead to protect the person (sent to the requester)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        max_length=5000,
    )


class CodeCheckForm(forms.Form):
    code = forms.CharField(label=_("Code the requester read out"), max_length=6, min_length=6)


class InquiryToRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[c for c in Kind.choices if c[0] not in CHANGE_KINDS]
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
    disclosure_form = forms.ChoiceField(
        label=_("Disclosure form"), choices=DisclosureForm.choices, required=False
    )


class DocumentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("What it proves"), choices=IdentityDocument.Purpose.choices)
    document_type = forms.ChoiceField(
        label=_("Document type"), choices=IdentityDocument.DocumentType.choices
    )
    file = forms.FileField(label=_("Scan (PDF, JPEG or PNG, at most 10 MB)"))
    issued_on = forms.DateField(
        label=_("Issued on (seal registration certificate)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    number_masked = forms.BooleanField(
        label=_("The insurer number and symbol/number are masked"), required=False
    )
