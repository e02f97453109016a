import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/mypage/orders/%00/", "/mypage/requests/%00/", "/privacy/versions/%00/"]
)
def test_a_nul_byte_in_a_url_parameter_is_a_404_not_a_500(client, path):
    """PostgreSQL refuses NUL in text: the lookup raised DataError, a 500. The `text`
    converter leaves control characters out of references, numbers, versions and tokens."""
    client.force_login(CustomerFactory().user)
    assert client.get(path).status_code == 404
