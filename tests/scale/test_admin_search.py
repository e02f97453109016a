"""The staff's customer search finds people by name, reading, e-mail and phone through indexes
that serve it, never by scanning the customers table."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.customers.models import Customer
from apps.customers.selectors import customers_matching
from tests.factories import CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

ALL_FIELDS = {"family_name", "given_name", "family_name_kana", "given_name_kana", "email", "phone"}


@pytest.fixture
def people():
    return {
        "hanako": CustomerFactory(
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            email="Hanako.Yamada@example.jp",
            phone="090-1234-5678",
        ),
        "taro": CustomerFactory(
            family_name="山本",
            given_name="太郎",
            family_name_kana="ヤマモト",
            given_name_kana="タロウ",
            email="taro@example.jp",
            phone="03-1111-2222",
        ),
        "smith": CustomerFactory(
            family_name="Smith",
            given_name="Anna",
            family_name_kana="スミス",
            given_name_kana="アンナ",
            email="anna@example.com",
            phone="+14155550100",
        ),
    }


def found(term, fields=ALL_FIELDS):
    return set(customers_matching(term=term, fields=fields).values_list("pk", flat=True))


def test_search_by_name_reading_email_and_phone(people):
    hanako, taro, smith = people["hanako"].pk, people["taro"].pk, people["smith"].pk
    assert found("山") == {hanako, taro}
    assert found("山田 花子") == {hanako}
    assert found("やまも") == {taro}  # hiragana finds the katakana reading
    assert found("ﾊﾅｺ") == {hanako}  # half-width too
    assert found("smi") == {smith}  # any case
    assert found("HANAKO.yamada@example.jp") == {hanako}
    assert found("hanako@example.jp") == set()  # e-mail exactly, not a part of one
    assert found("09012345678") == {hanako}
    assert found("０３－１１１１－２２２２") == {taro}
    assert found("田") == set()  # a name's start, not any part of it


def test_fields_a_role_may_not_search_find_nothing(people):
    names_only = {"family_name", "given_name"}
    assert found("taro@example.jp", names_only) == set()
    assert found("03-1111-2222", names_only) == set()
    assert found("やま", names_only) == set()
    assert found("山本", names_only) == {people["taro"].pk}


def test_the_admin_changelist_searches_that_way(client, people):
    client.force_login(make_staff("Support"))
    response = client.get(reverse("admin:customers_customer_changelist"), {"q": "やまだ"})
    assert [c.pk for c in response.context["cl"].result_list] == [people["hanako"].pk]


@pytest.mark.postgres
def test_each_kind_of_search_uses_an_index():
    Customer.objects.bulk_create(
        [
            Customer(
                family_name=f"姓{i}",
                given_name=f"名{i}",
                family_name_kana=f"セイ{i}",
                given_name_kana=f"メイ{i}",
                email=f"person{i}@example.jp",
                phone=f"090-{i // 10000:04d}-{i % 10000:04d}",
            )
            for i in range(20_000)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    for term, index in [
        ("姓123", "customer_family_name_prefix_idx"),
        ("せい123", "customer_family_name_kana_prefix_idx"),
        ("Person77@example.jp", "customer_email_ci_idx"),
        ("09000011234", "customer_phone_digits_idx"),
    ]:
        plan = customers_matching(term=term, fields=ALL_FIELDS).explain()
        assert index in plan, f"{term}: {plan}"
        assert "Seq Scan" not in plan, f"{term}: {plan}"


def test_a_posted_search_keeps_the_name_out_of_every_url(client, people):
    CustomerFactory.create_batch(3, family_name="山田", given_name="次郎")
    client.force_login(make_staff("Support"))
    changelist = reverse("admin:customers_customer_changelist")
    page = client.get(changelist).content.decode()
    assert 'method="post"' in page and reverse("admin:customers_customer_search") in page

    response = client.post(
        reverse("admin:customers_customer_search"), {"q": "山田", "status__exact": "active"}
    )
    assert response.status_code == 302
    location = response["Location"]
    assert "山田" not in location and "%E5%B1%B1" not in location  # neither raw nor quoted
    assert "status__exact=active" in location and "s=" in location

    listed = client.get(location)
    found = {c.pk for c in listed.context["cl"].result_list}
    assert people["hanako"].pk in found and people["taro"].pk not in found
    html = listed.content.decode()
    assert 'value="山田"' in html  # shown in the box, in the page body only
    links = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert not [link for link in links if "%E5%B1%B1" in link or "山田" in link]
    assert any("s=" in link and "o=" in link for link in links)  # sorting keeps the search


def test_a_search_token_from_another_session_opens_the_list_unsearched(client, people):
    staff = make_staff("Support")
    other = Client()
    other.force_login(staff)
    location = other.post(reverse("admin:customers_customer_search"), {"q": "山本"})["Location"]
    client.force_login(staff)
    response = client.get(location)
    assert response.status_code == 302
    assert "s=" not in response["Location"]
