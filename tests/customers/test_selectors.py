import pytest

from apps.customers.models import Customer
from apps.customers.selectors import customer_for_email
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_for_email_ignores_case_spaces_and_erased_people_and_takes_the_oldest():
    """The one lookup of a person by contact address (a newsletter sign-up from the public form,
    an inquiry turned into a request): an erased record is nobody, and of two records with one
    address the first one known answers."""
    CustomerFactory(email="taro@example.com", status=Customer.Status.ERASED)
    first = CustomerFactory(email="Taro@Example.com")
    CustomerFactory(email="taro@example.com")
    assert customer_for_email(email="  TARO@example.COM ") == first
    assert customer_for_email(email="nobody@example.com") is None
