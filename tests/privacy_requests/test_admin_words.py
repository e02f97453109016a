"""A request's page shows the person on file in words: the customer's status by its label in
the staff member's language, not the stored value (``active``)."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests.privacy_requests.conftest import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored():
    """A request with Accept-Language: ja leaves Japanese active in this thread; the tests
    after this one expect the language they started with."""
    with translation.override(translation.get_language()):
        yield


def test_the_person_on_file_shows_the_status_label(client, customer, officer):
    pr = make_request(customer)
    client.force_login(officer)
    page = client.get(
        reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]),
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    shown = page.content.decode()
    on_file = shown[shown.index(customer.full_name) :][:200]
    assert "有効" in on_file
    assert "active" not in on_file
