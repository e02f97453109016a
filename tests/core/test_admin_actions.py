import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("selected", ["no-such-row", "1\x00", "9" * 30])
def test_an_admin_action_on_a_selection_that_names_no_row_is_a_message_not_a_500(client, selected):
    """Django filtered the change list by the posted ids as they came: a value that is no id
    raised ValueError, a 500. The selection is parsed first, in every ModelAdmin."""
    client.force_login(make_staff(superuser=True))
    customer = CustomerFactory(status="restricted", restriction_reason="resale")
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "lift_restriction", "index": "0", "_selected_action": [selected]},
    )
    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages] == [
        "The selection names no row: select the rows again."
    ]
    customer.refresh_from_db()
    assert customer.status == "restricted"
