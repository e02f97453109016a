"""The contact form (/contact/): a success redirects (a reload sends nothing again), only
successful sends count against the visitor's limit, and a refused send keeps what was typed."""

import pytest
from django.urls import reverse

from apps.customers.models import Inquiry

pytestmark = pytest.mark.django_db

MESSAGE = "注文した商品はいつ届きますか。長い文章を入力しました。"


def contact(n=0, **changes):
    return {
        "name": "山田 花子",
        "email": f"ask{n}@example.com",
        "topic": "order",
        "message": MESSAGE,
        **changes,
    }


@pytest.fixture
def limit_two(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "contact": "2/h"}


def test_a_send_redirects_so_a_reload_does_not_send_again(client, mailoutbox):
    response = client.post(reverse("contact"), contact())
    assert response.status_code == 302
    assert Inquiry.objects.count() == 1
    # The browser follows with a GET: reloading that page sends nothing.
    done = client.get(response["Location"])
    assert done.status_code == 200
    assert "contact_done" in [t.name.split("/")[-1].removesuffix(".html") for t in done.templates]
    client.get(response["Location"])
    assert Inquiry.objects.count() == 1


def test_invalid_sends_do_not_count_against_the_limit(client, limit_two):
    for _ in range(5):
        response = client.post(reverse("contact"), contact(email="not-an-address"))
        assert response.status_code == 200
    assert client.post(reverse("contact"), contact(1)).status_code == 302
    assert client.post(reverse("contact"), contact(2)).status_code == 302
    assert Inquiry.objects.count() == 2


def test_over_the_limit_the_refusal_keeps_the_typed_message_and_writes_nothing(
    client, limit_two, mailoutbox
):
    for n in range(2):
        assert client.post(reverse("contact"), contact(n)).status_code == 302
    sent = len(mailoutbox)

    response = client.post(reverse("contact"), contact(3, message="三通目のメッセージです"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "too many times" in page
    # What the visitor typed is still in the form, ready to send later.
    assert "三通目のメッセージです" in page
    assert 'value="ask3@example.com"' in page
    assert Inquiry.objects.count() == 2
    assert len(mailoutbox) == sent
