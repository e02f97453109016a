import logging

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Address, Customer, Inquiry
from apps.customers.services.addresses import ADDRESS_EDITABLE_FIELDS
from apps.customers.validators import (
    PREFECTURE_CHOICES,
    normalize_kana,
    normalize_phone,
    normalize_postal_code,
    validate_date_of_birth,
    validate_katakana,
    validate_phone,
)

logger = logging.getLogger(__name__)


def _helper(submit_label) -> FormHelper:
    helper = FormHelper()
    helper.form_method = "post"
    helper.add_input(Submit("submit", submit_label))
    return helper


class NameFieldsMixin:
    """Normalises kana and phones before the model validators see them."""

    def clean_family_name_kana(self):
        kana = normalize_kana(self.cleaned_data.get("family_name_kana", ""))
        validate_katakana(kana)
        return kana

    def clean_given_name_kana(self):
        kana = normalize_kana(self.cleaned_data.get("given_name_kana", ""))
        validate_katakana(kana)
        return kana

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data.get("phone", ""))
        if phone:
            validate_phone(phone)
        return phone


class SignupForm(NameFieldsMixin, forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    # Validated after normalisation (hiragana and half-width kana become katakana).
    family_name_kana = forms.CharField(label=_("Family name (kana)"), max_length=100)
    given_name_kana = forms.CharField(label=_("Given name (kana)"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_of_birth],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rendered inside the signup page's own <form>, beside the consent boxes.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "email",
            "password1",
            "password2",
            Div(
                Div("family_name", css_class="col"),
                Div("given_name", css_class="col"),
                css_class="row",
            ),
            Div(
                Div("family_name_kana", css_class="col"),
                Div("given_name_kana", css_class="col"),
                css_class="row",
            ),
            "phone",
            "date_of_birth",
        )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class BoundedUsernameMixin:
    """AuthenticationForm only puts the length limit on the widget. Enforce it, so an oversized
    login never reaches authenticate() (django-axes would try to store it, and fail)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class EmailAuthenticationForm(BoundedUsernameMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.helper = _helper(_("Log in"))


class ProfileForm(NameFieldsMixin, forms.ModelForm):
    """Name, kana, phone, date of birth. The e-mail address is the login and has its own page
    (EmailChangeForm): it changes only after the new address is confirmed."""

    class Meta:
        model = Customer
        fields = [
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "phone",
            "date_of_birth",
        ]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("family_name", "given_name"):
            self.fields[name].required = True
        # Normalise first (clean_<field>), then validate: hiragana and full-width digits are fine.
        for name in ("family_name_kana", "given_name_kana", "phone"):
            self.fields[name].validators = []
        self.helper = _helper(_("Save"))
        self.helper.layout = Layout(
            Div(
                Div("family_name", css_class="col"),
                Div("given_name", css_class="col"),
                css_class="row",
            ),
            Div(
                Div("family_name_kana", css_class="col"),
                Div("given_name_kana", css_class="col"),
                css_class="row",
            ),
            "phone",
            Field("date_of_birth"),
        )


class CorrectionForm(ProfileForm):
    """The profile fields plus the e-mail address, as a correction request may ask to change
    them (a member's new address then still has to be confirmed before it becomes the login)."""

    email = forms.EmailField(label=_("E-mail address"), max_length=254)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.fields["email"].initial = self.instance.email

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class EmailChangeForm(forms.Form):
    """A member moves their login: the password proves it is them, the link sent to the new
    address proves the address is theirs."""

    email = forms.EmailField(label=_("New e-mail address"), max_length=254)
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = _helper(_("Send the confirmation link"))

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."))
        return password


class EmailConfirmResendForm(forms.Form):
    """No fields: the button that asks for a new confirmation link (CSRF-checked POST)."""


class AddressForm(forms.ModelForm):
    make_default = forms.BooleanField(label=_("Use as my default address"), required=False)

    class Meta:
        model = Address
        fields = list(ADDRESS_EDITABLE_FIELDS)  # what address_create/address_update take

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].widget = forms.Select(
            choices=[("JP", _("Japan")), ("US", _("United States")), ("GB", _("United Kingdom")),
                     ("KR", _("South Korea")), ("TW", _("Taiwan")), ("CN", _("China")),
                     ("DE", _("Germany")), ("FR", _("France"))]
        )  # fmt: skip
        self.fields["prefecture"].choices = [("", "---------"), *PREFECTURE_CHOICES]
        self.fields["postal_code"].help_text = _("In Japan: 123-4567")
        self.helper = _helper(_("Save address"))

    def clean_postal_code(self):
        return normalize_postal_code(self.cleaned_data.get("postal_code", ""))

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data.get("phone", ""))
        validate_phone(phone)
        return phone


class InquiryForm(forms.ModelForm):
    class Meta:
        model = Inquiry
        fields = ["name", "email", "phone", "topic", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Send"))

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data.get("phone", ""))
        if phone:
            validate_phone(phone)
        return phone


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, but the mail is durable work (customers.services.password_reset_request):
    the page never waits on, or fails with, the mail server; a link that could not be sent is
    retried with backoff until the server takes it. Nothing of the address reaches a log."""

    def save(self, **kwargs):
        from apps.customers.services import password_reset_request

        password_reset_request(users=list(self.get_users(self.cleaned_data["email"])))
