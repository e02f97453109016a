"""``/api/v1/orders/``: upserts by the client's id, their rules (totals, card numbers, who may
order), bulk answers per item, and a number of queries that does not grow with the lines."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.customers.models import Customer
from apps.customers.services import customer_restrict
from apps.integration.models import ApiCallLog, ExternalCustomer, ExternalOrder
from apps.orders.models import Order, OrderLine, Payment
from apps.orders.validators import contains_card_number
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"
BULK = "/api/v1/orders/bulk/"
CARD = "4242 4242 4242 4242"  # passes the Luhn check


def order_body(external_id="O-1", customer="C-1", *, lines=1, number=None, **overrides):
    body = {
        "external_id": external_id,
        "customer_external_id": customer,
        "number": number or f"N{external_id}",
        "status": "paid",
        "placed_at": "2026-12-01T10:15:00+09:00",
        "lines": [
            {"sku": f"SKU-{i}", "name": f"煎茶 {i}", "unit_price": 1000, "quantity": 2}
            for i in range(lines)
        ],
        "subtotal": 2000 * lines,
        "shipping_fee": 600,
        "total": 2000 * lines + 600,
        "ship_to": {
            "name": "山田 花子",
            "postal_code": "150-0001",
            "address": "東京都渋谷区神宮前1-2-3",
            "phone": "090-1234-5678",
        },
        "payment": {"method": "card", "card_brand": "VISA", "card_last4": "4242"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def shop(make_api):
    row, http = make_api(scopes=["orders:write", "customers:write"])
    http.row = row
    return http


def sent_customer(client_row, external_id="C-1", **fields) -> Customer:
    """A customer the client sent before (as POST /customers/ would have mapped it)."""
    customer = CustomerFactory(**fields)
    ExternalCustomer.objects.create(client=client_row, external_id=external_id, customer=customer)
    return customer


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


def nothing_stored():
    return not (
        Order.objects.exists()
        or OrderLine.objects.exists()
        or Payment.objects.exists()
        or ExternalOrder.objects.exists()
    )


def test_an_order_is_created_then_updated_then_unchanged(shop):
    customer = sent_customer(shop.row)
    created = shop.post(URL, order_body(lines=2), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "created"
    order = Order.objects.get(pk=created.json()["id"])
    assert (order.customer, order.number, order.total, order.status) == (
        customer,
        "NO-1",
        4600,
        "paid",
    )
    assert order.ship_name == "山田 花子" and order.ship_postal_code == "150-0001"
    assert [
        (line.sku, line.product_name, line.product_id) for line in order.lines.order_by("pk")
    ] == [
        ("SKU-0", "煎茶 0", None),
        ("SKU-1", "煎茶 1", None),
    ]
    assert (order.payment.card_brand, order.payment.card_last4, order.payment.amount) == (
        "VISA",
        "4242",
        4600,
    )
    assert ExternalOrder.objects.get(client=shop.row, external_id="O-1").order == order

    shipped = order_body(lines=1, status="shipped")
    updated = shop.post(URL, shipped, format="json")
    assert updated.status_code == 200 and updated.json()["status"] == "updated"
    assert updated.json()["id"] == order.pk
    assert {"status", "subtotal", "total", "lines", "payment"} <= set(updated.json()["changed"])
    order.refresh_from_db()
    assert order.status == "shipped" and order.total == 2600 and order.lines.count() == 1
    assert Payment.objects.get(order=order).amount == 2600

    again = shop.post(URL, shipped, format="json")
    assert again.status_code == 200 and again.json() == {
        "id": order.pk,
        "external_id": "O-1",
        "status": "unchanged",
        "changed": [],
    }
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1


def test_the_order_reads_back_for_its_client_only(shop, make_api):
    sent_customer(shop.row)
    shop.post(URL, order_body(external_id="gid://shopify/Order/1", number="NO-1"), format="json")
    got = shop.get(URL + "gid://shopify/Order/1/")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["customer_external_id"] == "C-1" and body["number"] == "NO-1"
    assert body["lines"] == [{"sku": "SKU-0", "name": "煎茶 0", "unit_price": 1000, "quantity": 2}]
    assert body["payment"]["card_last4"] == "4242" and body["ship_to"]["postal_code"] == "150-0001"
    _other_row, other = make_api(name="other shop")
    _problem(other.get(URL + "gid://shopify/Order/1/"), 404)


def test_a_repeated_idempotency_key_records_the_order_once(shop):
    sent_customer(shop.row)
    first = shop.post(URL, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = shop.post(URL, order_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert Order.objects.count() == 1
    other = shop.post(URL, order_body(lines=3), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    _problem(other, 422)
    assert OrderLine.objects.count() == 1


@pytest.mark.parametrize(
    "place",
    [
        lambda b: b["lines"][0].update(name=f"カード {CARD}"),
        lambda b: b["ship_to"].update(address=f"東京都 {CARD}"),
        lambda b: b["payment"].update(reference=CARD.replace(" ", "-")),
        lambda b: b["payment"].update(card_brand="４２４２４２４２４２４２４２４２"),  # full width
        lambda b: b.update(note={"deep": [{"card": int(CARD.replace(" ", ""))}]}),  # a number
        lambda b: b.update({CARD: "in a key"}),
        lambda b: b.update(number=CARD.replace(" ", "")),
    ],
    ids=["line", "ship_to", "reference", "full-width", "nested-number", "key", "number"],
)
def test_a_card_number_anywhere_is_422_and_nothing_is_stored(shop, place):
    sent_customer(shop.row)
    body = order_body()
    place(body)
    problem = _problem(shop.post(URL, body, format="json"), 422)
    assert "card number" in problem["detail"] + json.dumps(problem.get("errors", {}))
    assert CARD not in json.dumps(problem) and CARD.replace(" ", "") not in json.dumps(problem)
    assert nothing_stored()
    bulk = [order_body("O-ok"), body]
    problem = _problem(shop.post(BULK, bulk, format="json"), 422)
    assert any(key.startswith("1.") for key in problem["errors"])
    assert nothing_stored()


def test_a_long_numeric_client_id_is_not_taken_for_a_card_number(shop):
    # Shopify's ids have 18 digits; this one passes the Luhn check.
    external_id = "820982911946154508"
    assert contains_card_number(external_id)
    sent_customer(shop.row, external_id=external_id)
    body = order_body(external_id=external_id, customer=external_id, number="1001")
    assert shop.post(URL, body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"subtotal": 1999}, "subtotal"), ({"total": 2000}, "total"), ({"lines": None}, "lines")],
)
def test_totals_that_do_not_add_up_are_422(shop, overrides, field):
    sent_customer(shop.row)
    body = order_body()
    body.update({key: [] if value is None else value for key, value in overrides.items()})
    problem = _problem(shop.post(URL, body, format="json"), 422)
    assert any(key.startswith(field) for key in problem["errors"])
    assert nothing_stored()


def test_an_unknown_customer_is_422_asking_to_send_it_first(shop, make_api):
    other_row, _other = make_api(name="other shop")
    sent_customer(other_row)  # C-1 of another client is not this client's C-1
    problem = _problem(shop.post(URL, order_body(), format="json"), 422)
    assert "send it first" in problem["errors"]["customer_external_id"][0]
    assert nothing_stored()


def test_an_erased_or_restricted_customer_gets_409_and_nothing_is_stored(shop):
    restricted = sent_customer(shop.row)
    customer_restrict(customer=restricted, reason="Resale (Terms §7)")
    problem = _problem(shop.post(URL, order_body(), format="json"), 409)
    assert "restricted" in problem["detail"]
    sent_customer(shop.row, external_id="C-2", status=Customer.Status.ERASED)
    problem = _problem(shop.post(URL, order_body("O-2", "C-2"), format="json"), 409)
    assert "erased" in problem["detail"]
    assert nothing_stored()


def test_a_restricted_customer_s_earlier_order_can_still_be_brought_up_to_date(shop):
    customer = sent_customer(shop.row)
    assert shop.post(URL, order_body(), format="json").status_code == 201
    customer_restrict(customer=customer, reason="Resale (Terms §7)")
    shipped = shop.post(URL, order_body(status="shipped"), format="json")
    assert shipped.status_code == 200 and shipped.json()["status"] == "updated"
    _problem(shop.post(URL, order_body("O-2"), format="json"), 409)


def test_a_number_another_order_has_is_422(shop):
    sent_customer(shop.row)
    shop.post(URL, order_body("O-1", number="1001"), format="json")
    problem = _problem(shop.post(URL, order_body("O-2", number="1001"), format="json"), 422)
    assert "number" in problem["errors"]
    assert Order.objects.count() == 1


def test_the_scope_is_needed(make_api):
    _row, http = make_api(scopes=["customers:write"])
    _problem(http.post(URL, order_body(), format="json"), 403)
    _problem(http.post(BULK, [order_body()], format="json"), 403)


def test_bulk_answers_per_item(shop):
    sent_customer(shop.row)
    sent_customer(shop.row, external_id="C-erased", status=Customer.Status.ERASED)
    shop.post(URL, order_body("O-old"), format="json")
    items = [
        order_body("O-new", number="2001"),
        order_body("O-old", status="delivered"),
        order_body("O-unknown", "C-nobody"),
        order_body("O-erased", "C-erased"),
        order_body("O-bad", subtotal=1),
        {"external_id": "O-parse", "lines": "no"},
        order_body("O-new", number="2002"),  # the same id twice
        "not an object",
    ]
    response = shop.post(BULK, items, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == [
        "created",
        "updated",
        "error",
        "conflict",
        "error",
        "error",
        "error",
        "error",
    ]
    assert "send it first" in results[2]["errors"]["customer_external_id"][0]
    assert "subtotal" in results[4]["errors"] and "lines.non_field_errors" in results[5]["errors"]
    assert "external_id" in results[6]["errors"]
    assert results[0]["id"] == ExternalOrder.objects.get(external_id="O-new").order_id
    assert Order.objects.count() == 2
    assert Order.objects.get(external_ref__external_id="O-old").status == "delivered"
    log = ApiCallLog.objects.filter(action="orders.bulk.post").get()
    assert sorted(log.object_ids) == sorted(str(r["id"]) for r in results[:2])
    assert "山田" not in json.dumps(log.object_ids)


def test_bulk_refuses_a_body_that_is_not_an_array_or_too_long(shop):
    sent_customer(shop.row)
    _problem(shop.post(BULK, order_body(), format="json"), 422)
    _problem(shop.post(BULK, [order_body(f"O-{i}") for i in range(1001)], format="json"), 422)
    assert nothing_stored()


def _queries(shop, body, url=URL) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = shop.post(url, body, format="json")
    assert response.status_code in (200, 201), response.content
    return len(captured)


def test_queries_per_order_do_not_grow_with_its_lines(shop):
    sent_customer(shop.row)
    shop.post(URL, order_body("O-warm"), format="json")  # the key's last use is written once
    one = _queries(shop, order_body("O-1", lines=1))
    twenty = _queries(shop, order_body("O-20", lines=20))
    assert one == twenty
    # Updating replaces the lines, also in a fixed number of queries.
    assert _queries(shop, order_body("O-1", lines=20)) == _queries(
        shop, order_body("O-20", lines=1)
    )
    # Key, customers (locked), known orders, the order with its lines and payment (one
    # statement on PostgreSQL), its id, the access log, and the transaction's two.
    assert one <= (8 if connection.vendor == "postgresql" else 10)


def test_a_bulk_takes_the_same_queries_for_10_or_100_orders(shop):
    for i in range(10):
        sent_customer(shop.row, external_id=f"C-{i}")
    shop.post(URL, order_body("O-warm", "C-0"), format="json")

    def batch(prefix, n, lines):
        return [order_body(f"{prefix}-{i}", f"C-{i % 10}", lines=lines) for i in range(n)]

    small = _queries(shop, batch("S", 10, 1), BULK)
    large = _queries(shop, batch("L", 100, 5), BULK)
    assert small == large
    updates = batch("L", 100, 2)
    # + stored lines and payments, delete, bulk updates of orders, lines and payments (new
    # orders take one statement with their lines and payments on PostgreSQL)
    assert _queries(shop, updates, BULK) <= large + 5
    assert Order.objects.count() == 111


def test_orders_are_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {"/api/v1/orders/", "/api/v1/orders/bulk/", "/api/v1/orders/{external_id}/"} <= set(
        paths
    )


def test_messages_follow_the_callers_language_and_the_parser_keeps_no_state(shop):
    sent_customer(shop.row)
    bad = order_body(subtotal=1, lines=1)
    ja = _problem(shop.post(URL, bad, format="json", HTTP_ACCEPT_LANGUAGE="ja"), 422)
    assert "明細の合計" in ja["errors"]["subtotal"][0]
    unknown = _problem(
        shop.post(URL, order_body(customer="C-x"), format="json", HTTP_ACCEPT_LANGUAGE="ja"), 422
    )
    assert "先に顧客を送ってください" in unknown["errors"]["customer_external_id"][0]
    # The same (per-thread) parser then takes a good order, and an error again, cleanly.
    assert shop.post(URL, order_body(), format="json").status_code == 201
    en = _problem(shop.post(URL, order_body("O-2", lines=0), format="json"), 422)
    assert list(en["errors"]) == ["lines.non_field_errors"]


def test_a_dry_run_answers_what_would_happen_and_stores_nothing(shop):
    from apps.integration.api.orders import OrderInSerializer
    from apps.integration.ingest.orders import orders_upsert

    sent_customer(shop.row)
    items = [OrderInSerializer().run_validation(order_body(f"O-{i}")) for i in range(3)]
    results = orders_upsert(client=shop.row, items=items, dry_run=True)
    assert [(r.status, r.object_id) for r in results] == [("created", None)] * 3
    assert nothing_stored()


def test_an_order_for_a_person_erased_since_is_409_not_unknown(shop):
    """Erasure keeps only a keyed hash of the client's id for the person: an order sent later
    under that id is refused as the person's (409), not taken for an unknown customer."""
    from apps.integration.privacy import erase

    customer = sent_customer(shop.row)
    erase(customer)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED)
    problem = _problem(shop.post(URL, order_body(), format="json"), 409)
    assert "erased" in problem["detail"]
    results = shop.post(BULK, [order_body()], format="json").json()["results"]
    assert results[0]["status"] == "conflict"
    assert nothing_stored()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_order_and_its_access_log_row_commit_together(shop):
    sent_customer(shop.row)
    with CaptureQueriesContext(connection) as captured:
        response = shop.post(URL, order_body("O-1"), format="json")
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in captured.captured_queries]
    commits = [i for i, sql in enumerate(statements) if sql.upper().startswith("COMMIT")]
    log_insert = next(i for i, sql in enumerate(statements) if "integration_apicalllog" in sql)
    assert len(commits) == 1 and log_insert < commits[0]
    log = ApiCallLog.objects.get(action="orders.upsert.post")
    assert (log.status_code, log.object_ids) == (201, [str(response.json()["id"])])


def test_a_refused_order_still_has_its_access_log_row(shop):
    sent_customer(shop.row)
    _problem(shop.post(URL, order_body("O-1", customer="never-sent"), format="json"), 422)
    _problem(shop.post(URL, order_body("O-2", subtotal=1), format="json"), 422)
    assert list(
        ApiCallLog.objects.filter(action="orders.upsert.post").values_list("status_code", flat=True)
    ) == [422, 422]
    assert nothing_stored()
