import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from apps.customers.validators import (
    normalize_kana,
    normalize_phone,
    normalize_postal_code,
    validate_jp_postal_code,
    validate_katakana,
    validate_phone,
    validate_prefecture,
)


@pytest.mark.parametrize(
    "raw", ["123-4567", "1234567", "〒123-4567", "１２３－４５６７", " 123-4567 "]
)
def test_postal_codes_normalise_to_nnn_nnnn(raw):
    value = normalize_postal_code(raw)
    assert value == "123-4567"
    validate_jp_postal_code(value)


@pytest.mark.parametrize("raw", ["12-34567", "123-456", "abc-defg", "1234-567", "", "123-45678"])
def test_malformed_postal_codes_are_refused(raw):
    with pytest.raises(ValidationError) as exc:
        validate_jp_postal_code(normalize_postal_code(raw))
    assert "123-4567" in exc.value.messages[0]


@given(st.from_regex(r"\A\d{3}-\d{4}\Z"))
def test_every_nnn_nnnn_is_accepted(code):
    validate_jp_postal_code(code)


def test_prefectures():
    validate_prefecture("東京都")
    validate_prefecture("北海道")
    with pytest.raises(ValidationError):
        validate_prefecture("東京")
    with pytest.raises(ValidationError):
        validate_prefecture("California")


@pytest.mark.parametrize(
    "raw", ["03-1234-5678", "090-1234-5678", "0312345678", "09012345678", "+81 3 1234 5678",
            "０９０－１２３４－５６７８", "(03) 1234-5678"]
)  # fmt: skip
def test_valid_phones(raw):
    validate_phone(normalize_phone(raw))


@pytest.mark.parametrize(
    "raw", ["123", "03-1234-567", "phone", "+0 123", "090-1234-56789", "1-800-FLOWERS"]
)
def test_invalid_phones(raw):
    with pytest.raises(ValidationError):
        validate_phone(normalize_phone(raw))


def test_kana_normalisation_and_validation():
    assert normalize_kana("やまだ") == "ヤマダ"
    assert normalize_kana("ﾔﾏﾀﾞ") == "ヤマダ"
    validate_katakana("ヤマダ")
    validate_katakana("ヤマダ ハナコ")
    validate_katakana("ジョーンズ")
    for bad in ("山田", "yamada", "ヤマダ1"):
        with pytest.raises(ValidationError):
            validate_katakana(bad)


def test_a_date_of_birth_lies_in_the_past_after_1900():
    import datetime

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from apps.customers.validators import validate_date_of_birth

    validate_date_of_birth(datetime.date(1990, 4, 1))
    validate_date_of_birth(timezone.localdate())
    for bad in (timezone.localdate() + datetime.timedelta(days=1), datetime.date(1899, 12, 31)):
        with pytest.raises(ValidationError):
            validate_date_of_birth(bad)


@pytest.mark.django_db
def test_a_bad_japanese_postal_code_is_reported_once():
    from apps.customers.forms import AddressForm
    from apps.customers.models import Address
    from tests.factories import CustomerFactory

    form = AddressForm(
        data={"country": "JP", "recipient_name": "山田 花子", "postal_code": "12-34",
              "prefecture": "東京都", "city": "世田谷区", "line1": "桜新町1-2-3"},
        instance=Address(customer=CustomerFactory()),
    )  # fmt: skip
    assert not form.is_valid()
    assert len(form.errors["postal_code"]) == 1
