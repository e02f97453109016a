"""Customers in through the API and ``customers_upsert``: keys and scopes, create and update by
the client's id, what an empty field means, validation as on My Page, 409 for people who may
not be written, the suppression list, bulk per-item answers in a bounded number of queries,
dry runs, the access log, and the registry's export and erasure of the ids."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.consents.services import restriction_set
from apps.core.privacy import personal_data_erase, personal_data_export
from apps.customers.models import Address, Customer, User
from apps.customers.services import customer_restrict
from apps.integration.ingest.customers import customers_upsert
from apps.integration.ingest.types import AddressIn, CustomerIn
from apps.integration.models import ApiCallLog, ExternalCustomer
from apps.marketing.models import SuppressedAddress
from apps.marketing.services import suppression_add
from tests.conftest import wait_until
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
BULK = "/api/v1/customers/bulk/"

ADDRESS = {
    "recipient_name": "鰐淵 瑠璃子",
    "postal_code": "９８１３２０３",  # full-width, no hyphen: stored as 981-3203
    "prefecture": "宮城県",
    "city": "仙台市泉区",
    "line1": "高森2-1-40",
    "phone": "０２２ー３７８ー００００",  # full-width: stored as 022-378-0000
}
GUEST = {
    "external_id": "C-10001",
    "kind": "guest",
    "family_name": "鰐淵",
    "given_name": "瑠璃子",
    "family_name_kana": "わにぶち",  # hiragana: stored in katakana
    "given_name_kana": "ルリコ",
    "email": "Ruriko.Wanibuchi@Example.net",
    "phone": "080-7654-3210",
    "date_of_birth": "1988-04-02",
    "addresses": [ADDRESS],
}
PERSONAL_VALUES = ["鰐淵", "瑠璃子", "ワニブチ", "ruriko", "080-7654-3210", "981-3203", "高森"]


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _item(external_id="C-1", **fields) -> CustomerIn:
    fields.setdefault("kind", "guest")
    fields.setdefault("acquired_via", "")
    return CustomerIn(external_id=external_id, **fields)


def _address(**fields) -> AddressIn:
    values = {
        "recipient_name": "山田 花子",
        "postal_code": "150-0001",
        "prefecture": "東京都",
        "city": "渋谷区神宮前",
        "line1": "1-2-3",
        "phone": "03-1234-5678",
    }
    return AddressIn(**{**values, **fields})


# ------------------------------------------------------------------ keys and scopes


def test_no_key_is_401_and_a_key_without_customers_write_is_403(make_api):
    assert APIClient().post(URL, GUEST, format="json").status_code == 401
    _row, http = make_api(scopes=["orders:write", "consents:read"])
    body = _problem(http.post(URL, GUEST, format="json"), 403)
    assert "customers:write" in body["detail"]
    _problem(http.post(BULK, [GUEST], format="json"), 403)
    _problem(http.get(URL + "C-10001/"), 403)
    assert not Customer.objects.exists()


# ------------------------------------------------------------------ create, update


def test_a_new_id_creates_a_guest_without_a_login_normalised_as_on_my_page(make_api):
    row, http = make_api()
    response = http.post(URL, GUEST, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk and body["external_id"] == "C-10001"
    assert body["status"] == "created" and body["suppressed"] is False
    assert ExternalCustomer.objects.get(client=row, external_id="C-10001").customer == customer
    assert customer.user_id is None and not User.objects.exists()
    assert customer.acquired_via == Customer.AcquiredVia.PURCHASE  # a guest's default
    assert customer.family_name_kana == "ワニブチ"
    assert customer.email == "ruriko.wanibuchi@example.net"
    assert customer.date_of_birth == datetime.date(1988, 4, 2)
    address = Address.objects.get(customer=customer)
    assert address.postal_code == "981-3203" and address.phone == "022-378-0000"
    assert address.is_default


def test_an_update_changes_the_fields_given_and_keeps_what_is_left_empty(make_api):
    _row, http = make_api()
    created = http.post(URL, GUEST, format="json").json()
    update = {
        "external_id": "C-10001",
        "kind": "guest",
        "acquired_via": "import",  # how the record came is set once, at creation
        "phone": "090-1111-2222",
        "date_of_birth": None,
        "family_name": "",
        "addresses": [ADDRESS, {**ADDRESS, "line1": "高森3-3-3"}],
    }
    response = http.post(URL, update, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": created["id"],
        "external_id": "C-10001",
        "status": "updated",
        "changed": ["phone", "addresses"],
        "suppressed": False,
    }
    customer = Customer.objects.get()
    assert customer.phone == "090-1111-2222"
    assert customer.family_name == "鰐淵" and customer.date_of_birth == datetime.date(1988, 4, 2)
    assert customer.acquired_via == Customer.AcquiredVia.PURCHASE
    # The address already held is not added twice; the new one is not the default.
    assert sorted(Address.objects.values_list("line1", "is_default")) == [
        ("高森2-1-40", True),
        ("高森3-3-3", False),
    ]
    again = http.post(URL, update, format="json")
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged" and again.json()["changed"] == []


def test_each_client_has_its_own_ids(make_api):
    _a, first = make_api(name="storefront")
    _b, second = make_api(name="ec-cube")
    one = first.post(URL, GUEST, format="json").json()
    two = second.post(URL, GUEST, format="json").json()
    assert one["id"] != two["id"] and Customer.objects.count() == 2
    assert second.get(URL + "C-10001/").json()["id"] == two["id"]
    second.post(URL, {**GUEST, "external_id": "ONLY-B"}, format="json")
    _problem(first.get(URL + "ONLY-B/"), 404)


def test_a_members_login_email_is_not_moved_by_a_storefront(make_api):
    row, http = make_api()
    member = CustomerFactory(email="member@example.com", user__email="member@example.com")
    ExternalCustomer.objects.create(client=row, external_id="M-1", customer=member)
    change = _item("M-1", kind="member", email="other@example.com")
    [dry] = customers_upsert(client=row, items=[change], dry_run=True)
    assert dry.status == "unchanged"
    body = http.post(
        URL, {"external_id": "M-1", "kind": "member", "email": "other@example.com"}, format="json"
    ).json()
    assert body["status"] == "unchanged"
    member.refresh_from_db()
    assert member.email == member.user.email == "member@example.com"


def test_a_repeated_idempotency_key_answers_the_first_answer_and_writes_once(make_api):
    _row, http = make_api()
    first = http.post(URL, GUEST, format="json", HTTP_IDEMPOTENCY_KEY="order-77-customer")
    again = http.post(URL, GUEST, format="json", HTTP_IDEMPOTENCY_KEY="order-77-customer")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
    other = http.post(
        URL,
        {**GUEST, "phone": "090-0000-0000"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-77-customer",
    )
    _problem(other, 422)
    bulk = [GUEST]
    one = http.post(BULK, bulk, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    two = http.post(BULK, bulk, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert one.json() == two.json() and two["Idempotent-Replayed"] == "true"


def test_get_answers_what_we_hold_and_404_for_an_unknown_id(make_api):
    _row, http = make_api()
    created = http.post(URL, {**GUEST, "external_id": "gid://shopify/Customer/7"}, format="json")
    response = http.get(URL + "gid://shopify/Customer/7/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == created.json()["id"]
    assert body["external_id"] == "gid://shopify/Customer/7"
    assert body["family_name_kana"] == "ワニブチ" and body["status"] == "active"
    assert [a["postal_code"] for a in body["addresses"]] == ["981-3203"]
    _problem(http.get(URL + "C-404/"), 404)


# ------------------------------------------------------------------ validation


def test_a_bad_postal_code_is_422_with_the_field_and_writes_nothing(make_api):
    _row, http = make_api()
    bad = {**GUEST, "addresses": [{**ADDRESS, "postal_code": "98-13203", "prefecture": "Miyagi"}]}
    body = _problem(http.post(URL, bad, format="json"), 422)
    assert set(body["errors"]) == {"addresses.0.postal_code", "addresses.0.prefecture"}
    assert "123-4567" in body["errors"]["addresses.0.postal_code"][0]
    assert not Customer.objects.exists() and not ExternalCustomer.objects.exists()


def test_bad_kana_phone_kind_and_a_missing_id_are_422_per_field(make_api):
    _row, http = make_api()
    bad = {**GUEST, "family_name_kana": "Wanibuchi", "phone": "12345", "kind": "vip"}
    del bad["external_id"]
    body = _problem(http.post(URL, bad, format="json"), 422)
    assert set(body["errors"]) == {"external_id", "kind"}  # the serializer's turn first
    body = _problem(
        http.post(URL, {**bad, "external_id": "x", "kind": "guest"}, format="json"), 422
    )
    assert set(body["errors"]) == {"family_name_kana", "phone"}
    assert not Customer.objects.exists()


# ------------------------------------------------------------------ who may not be written


@pytest.mark.parametrize("state", ["erased", "restricted", "stopped"])
def test_an_erased_restricted_or_stopped_person_is_409_and_left_alone(make_api, state):
    _row, http = make_api()
    created = http.post(URL, GUEST, format="json").json()
    customer = Customer.objects.get(pk=created["id"])
    if state == "erased":
        Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED)
    elif state == "restricted":
        customer_restrict(customer=customer, reason="転売")
    else:
        restriction_set(customer=customer, stop_use=True)
    before = Customer.objects.filter(pk=customer.pk).values().get()
    body = _problem(http.post(URL, {**GUEST, "phone": "090-9999-9999"}, format="json"), 409)
    expected = {"erased": "erased", "restricted": "restricted", "stopped": "stop using"}[state]
    assert expected in body["detail"]
    assert Customer.objects.filter(pk=customer.pk).values().get() == before
    bulk = http.post(BULK, [{**GUEST, "phone": "090-9999-9999"}], format="json").json()
    assert bulk["results"][0]["status"] == "conflict"
    assert expected in bulk["results"][0]["errors"]["non_field_errors"][0]


def test_a_suppressed_address_stays_suppressed(make_api):
    from apps.marketing.models import Subscription

    suppression_add(address="ruriko.wanibuchi@example.net", reason="unsubscribed")
    _row, http = make_api()
    body = http.post(URL, GUEST, format="json").json()
    assert body["status"] == "created" and body["suppressed"] is True
    assert SuppressedAddress.objects.count() == 1
    assert not Subscription.objects.exists()
    # An update without an e-mail still says so: the address held is the one suppressed.
    again = http.post(URL, {"external_id": "C-10001", "kind": "guest"}, format="json").json()
    assert again["suppressed"] is True


# ------------------------------------------------------------------ bulk


def test_bulk_answers_per_item_and_keeps_the_good_ones(make_api):
    row, http = make_api()
    erased = CustomerFactory(user=None, status=Customer.Status.ERASED)
    ExternalCustomer.objects.create(client=row, external_id="GONE", customer=erased)
    items = [
        GUEST,
        {**GUEST, "external_id": "C-2", "addresses": [{**ADDRESS, "postal_code": "1"}]},
        "not an object",
        {**GUEST, "external_id": "C-3", "kind": "vip"},
        {**GUEST, "external_id": "GONE"},
        {**GUEST, "external_id": "C-10001"},  # the same id twice in one call
        {"external_id": "C-4", "kind": "member"},
    ]
    response = http.post(BULK, items, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "created"),
        (1, "error"),
        (2, "error"),
        (3, "error"),
        (4, "conflict"),
        (5, "error"),
        (6, "created"),
    ]
    assert list(results[1]["errors"]) == ["addresses.0.postal_code"]
    assert list(results[3]["errors"]) == ["kind"]
    assert list(results[5]["errors"]) == ["external_id"]
    assert results[4]["id"] == erased.pk
    assert set(ExternalCustomer.objects.values_list("external_id", flat=True)) == {
        "C-10001",
        "C-4",
        "GONE",
    }
    member = Customer.objects.get(external_ids__external_id="C-4")
    assert member.acquired_via == Customer.AcquiredVia.SIGNUP


def test_bulk_refuses_what_is_not_a_list_or_too_long(make_api):
    _row, http = make_api()
    body = _problem(http.post(BULK, GUEST, format="json"), 422)
    assert "array" in body["detail"]
    many = [{"external_id": f"C-{n}", "kind": "guest"} for n in range(1001)]
    body = _problem(http.post(BULK, many, format="json"), 422)
    assert "1000" in body["detail"]
    assert not Customer.objects.exists()


def _batch(n: int, *, prefix="C-", **fields) -> list[CustomerIn]:
    return [
        _item(
            f"{prefix}{i}",
            family_name="山田",
            given_name=f"花子{i}",
            email=f"guest{i}@example.com",
            addresses=(_address(),),
            **fields,
        )
        for i in range(n)
    ]


@pytest.mark.postgres
def test_a_batch_of_1000_costs_the_same_few_queries_as_a_batch_of_10(make_api):
    """Validation in Python, three look-ups, and a fixed number of statements per batch: no
    query per item (SQLite splits bulk INSERTs by its variable limit, hence PostgreSQL)."""
    row, _http = make_api()
    counts = {}
    for n in (10, 1000):
        for phase, fields in (("create", {}), ("update", {"phone": "090-0000-0000"})):
            with CaptureQueriesContext(connection) as queries:
                results = customers_upsert(client=row, items=_batch(n, prefix=f"{n}-", **fields))
            assert {r.status for r in results} == {"created" if phase == "create" else "updated"}
            counts[(n, phase)] = len(queries)
    assert counts[(1000, "create")] == counts[(10, "create")] <= 12, counts
    assert counts[(1000, "update")] == counts[(10, "update")] <= 12, counts
    assert Customer.objects.count() == 1010 and Address.objects.count() == 1010


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_two_calls_creating_the_same_id_at_once_make_one_customer(transactional_db, make_api):
    """The second call's batch INSERT waits on the first's uncommitted id, fails when it
    commits, and is redone item by item: the item becomes an update of the first's customer."""
    row, _http = make_api()
    first_holds = threading.Event()
    release = threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                outcome["first"] = customers_upsert(
                    client=row, items=[_item("X", family_name="山田")]
                )
                first_holds.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second():
        try:
            outcome["second"] = customers_upsert(
                client=row, items=[_item("X", given_name="花子"), _item("Y")]
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_holds.wait(10)
    threads[1].start()
    wait_until(lambda: waiting_on_a_lock() == 1, timeout=10)
    release.set()
    for thread in threads:
        thread.join(10)

    [created] = outcome["first"]
    updated, other = outcome["second"]
    assert created.status == "created"
    assert (updated.status, updated.object_id, updated.changed) == (
        "updated",
        created.object_id,
        ["given_name"],
    )
    assert other.status == "created"
    assert Customer.objects.count() == 2
    customer = Customer.objects.get(pk=created.object_id)
    assert (customer.family_name, customer.given_name) == ("山田", "花子")


# ------------------------------------------------------------------ dry run


def test_a_dry_run_writes_nothing_and_answers_what_a_real_run_does(make_api):
    row, _http = make_api()
    customers_upsert(client=row, items=[_item("OLD", family_name="山田", addresses=(_address(),))])
    suppression_add(address="new@example.com", reason="bounced")
    items = [
        _item("OLD", family_name="山田", given_name="花子", addresses=(_address(line1="9-9"),)),
        _item("NEW", email="new@example.com"),
        _item("BAD", phone="12"),
    ]
    tables = (Customer, Address, ExternalCustomer)
    before = [list(model.objects.order_by("pk").values()) for model in tables]
    with CaptureQueriesContext(connection) as queries:
        dry = customers_upsert(client=row, items=items, dry_run=True)
    assert not [
        q
        for q in queries
        if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]
    assert [list(model.objects.order_by("pk").values()) for model in tables] == before
    real = customers_upsert(client=row, items=items)
    assert [(r.status, r.changed, r.suppressed, r.errors) for r in dry] == [
        (r.status, r.changed, r.suppressed, r.errors) for r in real
    ]
    assert [r.status for r in dry] == ["updated", "created", "error"]
    assert dry[0].changed == ["given_name", "addresses"] and dry[1].object_id is None


# ------------------------------------------------------------------ the access log, the registry


def test_the_access_log_and_the_logs_hold_ids_and_no_personal_value(make_api, caplog):
    caplog.set_level("DEBUG")
    row, http = make_api()
    created = http.post(URL, GUEST, format="json").json()
    http.post(BULK, [GUEST, {**GUEST, "external_id": "C-2"}], format="json")
    http.get(URL + "C-10001/")
    _problem(http.post(URL, {**GUEST, "phone": "1"}, format="json"), 422)
    entries = list(ApiCallLog.objects.filter(client_id=row.pk).order_by("pk"))
    assert [(e.action, e.status_code) for e in entries] == [
        ("customers.upsert.post", 201),
        ("customers.bulk.post", 200),
        ("customers.detail.get", 200),
        ("customers.upsert.post", 422),
    ]
    assert entries[0].object_ids == [str(created["id"])]
    logged = json.dumps([[e.action, e.object_ids] for e in entries], ensure_ascii=False)
    for value in [*PERSONAL_VALUES, "C-10001"]:
        assert value.lower() not in logged.lower()
        assert value.lower() not in caplog.text.lower()
    assert "customers upserted" in caplog.text  # the logs were captured


def test_the_disclosure_names_the_systems_and_erasure_keeps_only_a_hash_of_the_ids(make_api):
    _row, http = make_api(name="本店ストア")
    created = http.post(URL, GUEST, format="json").json()
    exported = personal_data_export(customer_id=created["id"])
    assert exported["integration"]["shop_systems"] == [
        {
            "system": "本店ストア",
            "kind": "storefront",
            "external_id": "C-10001",
            "since": ExternalCustomer.objects.get().created_at,
        }
    ]

    dry = personal_data_erase(customer_id=created["id"], dry_run=True)
    assert dry.anonymised["integration.ExternalCustomer"] == 1
    assert ExternalCustomer.objects.get().external_id == "C-10001"
    report = personal_data_erase(customer_id=created["id"])
    assert report.anonymised["integration.ExternalCustomer"] == 1
    assert "one-way code" in report.labels["integration.ExternalCustomer"]
    kept = ExternalCustomer.objects.get()
    assert "C-10001" not in kept.external_id and kept.external_id.startswith("erased:")
    assert personal_data_export(customer_id=created["id"])["integration"]["shop_systems"] == []
    again = personal_data_erase(customer_id=created["id"])
    assert again.anonymised["integration.ExternalCustomer"] == 0

    # The storefront's nightly sync sends the person again: refused, not created anew.
    body = _problem(http.post(URL, GUEST, format="json"), 409)
    assert "erased" in body["detail"]
    bulk = http.post(BULK, [GUEST], format="json").json()["results"]
    assert [(r["status"], r["id"]) for r in bulk] == [("conflict", created["id"])]
    assert Customer.objects.count() == 1
    assert http.get(URL + "C-10001/").json()["status"] == "erased"
    # Another system's same id is another person.
    _other, elsewhere = make_api(name="other")
    assert elsewhere.post(URL, GUEST, format="json").status_code == 201
    # Nobody can send the hash itself.
    body = _problem(http.post(URL, {**GUEST, "external_id": kept.external_id}, format="json"), 422)
    assert list(body["errors"]) == ["external_id"]
