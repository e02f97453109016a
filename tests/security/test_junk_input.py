"""Bad input never breaks a form: hypothesis-generated junk posted to every public and My Page
form answers with the form again (or a 4xx), never a 500, and writes nothing."""

import pytest
from django.apps import apps
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import PASSWORD, AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db

JUNK = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.sampled_from(
        [
            "", " ", "\x00", "0" * 5000, "<script>alert(1)</script>", "'; DROP TABLE x; --",
            "〒123-45678", "4242 4242 4242 4242", "2026-02-30", "-1", "1e309", "NaN",
            "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "a@b", "@example.com", "東京県", "ヤマダ123",
        ]
    ),
    st.integers().map(str),
)  # fmt: skip

PUBLIC_FORMS = ["contact", "signup", "login", "password_reset"]
MYPAGE_FORMS = ["customers:profile", "customers:address_create", "customers:address_edit"]


def all_rows():
    """Every row of every model of ours, as plain values."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model.__module__.startswith("apps.")
    }


def field_names(client, url):
    form = client.get(url).context["form"]
    return sorted(form.fields)


@pytest.fixture
def member(settings):
    # Let every example reach the form rather than the rate limiter or the lockout.
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/h")
    settings.AXES_FAILURE_LIMIT = 100000
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default=True)
    return customer


@pytest.mark.parametrize("name", PUBLIC_FORMS + MYPAGE_FORMS)
def test_junk_posted_to_a_form_answers_without_error_and_writes_nothing(client, member, name):
    if name in MYPAGE_FORMS:
        client.force_login(member.user)
    args = [member.addresses.get().pk] if name == "customers:address_edit" else []
    url = reverse(name, args=args)
    names = field_names(client, url)
    assert names, url
    before = all_rows()

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.fixed_dictionaries(dict.fromkeys(names, JUNK)))
    def post_junk(data):
        response = client.post(url, data)
        assert response.status_code in {200, 400, 403, 404, 429}, response.status_code
        assert all_rows() == before

    post_junk()


LONG_EMAIL = "a" * 64 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "@example.com"


def test_a_valid_but_overlong_email_is_a_signup_error_not_a_500(client, member):
    """RFC-valid addresses can be longer than the 254 characters our columns hold."""
    assert len(LONG_EMAIL) > 254
    before = all_rows()
    signup = client.post(
        reverse("signup"),
        {"email": LONG_EMAIL, "password1": "sakura-blossom-2026",
         "password2": "sakura-blossom-2026", "family_name": "鈴木", "given_name": "一郎",
         "family_name_kana": "スズキ", "given_name_kana": "イチロウ"},
    )  # fmt: skip
    assert signup.status_code == 200, signup.status_code
    assert "email" in signup.context["form"].errors
    assert all_rows() == before


def test_a_valid_but_overlong_email_is_a_profile_error_not_a_500(client, member):
    client.force_login(member.user)
    before = all_rows()
    profile = client.post(
        reverse("mypage:email_change"), {"email": LONG_EMAIL, "password": PASSWORD}
    )
    assert profile.status_code == 200, profile.status_code
    assert "email" in profile.context["form"].errors
    assert all_rows() == before
