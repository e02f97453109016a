import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.orders.validators import contains_card_number, luhn_valid


def _with_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError


@pytest.mark.parametrize(
    "text",
    ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242", "card: 5555555555554444 ok",
     "４２４２４２４２４２４２４２４２", "378282246310005"],
)  # fmt: skip
def test_card_numbers_are_detected(text):
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text", ["4242", "VISA", "", "order 20261123", "4242424242424241", "TX-98765"]
)
def test_ordinary_values_pass(text):
    assert not contains_card_number(text)


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_any_luhn_valid_pan_is_detected(body):
    assert contains_card_number(_with_check_digit(body))
