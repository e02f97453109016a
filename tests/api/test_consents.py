"""Consent events in and the consent check: grants need evidence, withdrawals are always
accepted, nothing a client sends overrides a later choice or lifts a suppression, and the check
answers in one indexed query."""

from __future__ import annotations

import datetime
import json
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.consents.models import (
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    PersonRestriction,
    PolicyVersion,
    Purpose,
    Source,
    Wording,
)
from apps.customers.models import Customer, User
from apps.integration.ingest.consents import consent_events_apply
from apps.integration.ingest.types import ConsentEventIn, Evidence
from apps.integration.models import (
    ApiCallLog,
    ApiClient,
    ExternalConsentEvent,
    ExternalCustomer,
)
from apps.integration.selectors import consents_check
from apps.marketing.models import MailMagazine, Subscription, SuppressedAddress
from apps.marketing.selectors import address_hash

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/consents/events/"
BULK = "/api/v1/consents/events/bulk/"
CHECK = "/api/v1/consents/check"
BATCH = "/api/v1/consents/check/batch/"
WORDING = "メールマガジンを受け取る / Send me the mail magazine"


@pytest.fixture
def shop(make_api):
    """(ApiClient row, DRF client with every scope)."""
    return make_api()


def person(client: ApiClient, external_id: str, **fields) -> Customer:
    fields.setdefault("email", f"{external_id.lower()}@example.com")
    fields.setdefault("acquired_via", Customer.AcquiredVia.PURCHASE)
    customer = Customer.objects.create(family_name="山田", **fields)
    ExternalCustomer.objects.create(client=client, external_id=external_id, customer=customer)
    return customer


def evidence(**overrides) -> dict:
    body = {
        "policy_version": "1.0",
        "source": "checkout",
        "at": (timezone.now() - datetime.timedelta(minutes=1)).isoformat(),
        "wording": WORDING,
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (test)",
    }
    body.update(overrides)
    return body


def grant(customer="C-1", purpose="newsletter", **evidence_overrides) -> dict:
    return {
        "customer": customer,
        "purpose": purpose,
        "action": "grant",
        "evidence": evidence(**evidence_overrides),
    }


def withdraw(customer="C-1", purpose="newsletter", **fields) -> dict:
    return {"customer": customer, "purpose": purpose, "action": "withdraw", **fields}


def state_of(customer: Customer, code: str = "newsletter") -> str | None:
    row = ConsentState.objects.filter(customer=customer, purpose__code=code).first()
    return row.status if row else None


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


# ---------------------------------------------------------------------- events


def test_a_grant_with_evidence_is_recorded_in_the_ledger_with_all_of_it(shop):
    row, http = shop
    customer = person(row, "C-1")
    given_at = timezone.now() - datetime.timedelta(hours=2)
    response = http.post(EVENTS, grant(at=given_at.isoformat()), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "recorded" and body["customer"] == "C-1"
    event = ConsentEvent.objects.get(pk=body["id"])
    assert (event.customer_id, event.purpose.code, event.action) == (
        customer.pk,
        "newsletter",
        ConsentEvent.Action.GRANT,
    )
    assert event.wording.text == WORDING
    assert event.policy_version.version == "1.0"
    assert event.source == Source.CHECKOUT
    context = ConsentEventContext.objects.get(event=event)
    assert (context.ip_address, context.user_agent) == ("203.0.113.7", "Mozilla/5.0 (test)")
    # The ledger's time is when it reached us; the storefront's time is kept beside it.
    external = ExternalConsentEvent.objects.get(event=event)
    assert external.client == row and external.occurred_at == given_at
    assert event.occurred_at > given_at
    assert state_of(customer) == ConsentState.Status.GRANTED


def test_a_grant_may_name_a_known_wording_by_its_id(shop):
    row, http = shop
    customer = person(row, "C-1")
    known = Wording.objects.create(sha256=Wording.hash_of("Known words"), text="Known words")
    body = grant(wording="", wording_id=known.pk)
    response = http.post(EVENTS, body, format="json")
    assert response.status_code == 201, response.content
    assert ConsentEvent.objects.get(customer=customer).wording_id == known.pk
    missing = problem(http.post(EVENTS, grant(wording="", wording_id=999_999), format="json"), 422)
    assert "evidence.wording_id" in missing["errors"]


def test_a_grant_without_evidence_is_refused_and_changes_nothing(shop):
    row, http = shop
    customer = person(row, "C-1")
    http.post(EVENTS, withdraw(), format="json")
    before = ConsentEvent.objects.count()
    body = problem(
        http.post(
            EVENTS, {"customer": "C-1", "purpose": "newsletter", "action": "grant"}, format="json"
        ),
        422,
    )
    assert body["type"].endswith("consent_refused")
    assert "evidence" in body["detail"] and "evidence" in body["errors"]
    without_wording = problem(http.post(EVENTS, grant(wording=""), format="json"), 422)
    assert "evidence.wording" in without_wording["errors"]
    assert ConsentEvent.objects.count() == before
    assert state_of(customer) == ConsentState.Status.WITHDRAWN


def test_a_withdrawal_without_evidence_is_accepted_and_the_check_says_no(shop):
    row, http = shop
    customer = person(row, "C-1")
    assert http.post(EVENTS, grant(), format="json").status_code == 201
    response = http.post(EVENTS, withdraw(), format="json")
    assert response.status_code == 201, response.content
    event = ConsentEvent.objects.get(pk=response.json()["id"])
    assert event.action == ConsentEvent.Action.WITHDRAW
    assert event.source == Source.STOREFRONT  # no place given: the client's system
    assert state_of(customer) == ConsentState.Status.WITHDRAWN
    check = http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).json()
    assert check["allowed"] is False and check["status"] == "withdrawn"
    again = http.post(EVENTS, withdraw(), format="json")
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_a_withdrawal_with_flawed_details_is_still_recorded_and_says_what_was_replaced(shop):
    row, _http = shop
    customer = person(row, "C-1")
    item = ConsentEventIn(
        "C-1",
        "newsletter",
        "withdraw",
        evidence=Evidence(
            policy_version="9.9",
            source="nowhere",
            at=timezone.now() + datetime.timedelta(days=2),
            wording_id=999_999,
        ),
    )
    (result,) = consent_events_apply(client=row, items=[item])
    assert result.status == "recorded"
    assert set(result.errors) == {"source", "at", "evidence.policy_version", "evidence.wording_id"}
    event = ConsentEvent.objects.get(pk=result.object_id)
    assert event.source == Source.STOREFRONT and event.policy_version.version == "1.0"
    assert ExternalConsentEvent.objects.get(event=event).occurred_at <= timezone.now()
    assert state_of(customer) == ConsentState.Status.WITHDRAWN


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": Customer.Status.ERASED}, "erased"),
        ({"status": Customer.Status.RESTRICTED, "restriction_reason": "fraud"}, "restricted"),
    ],
)
def test_a_grant_for_an_erased_or_restricted_person_is_409(shop, fields, reason):
    row, http = shop
    customer = person(row, "C-1", **fields)
    body = problem(http.post(EVENTS, grant(), format="json"), 409)
    assert reason in body["detail"]
    assert not ConsentEvent.objects.filter(customer=customer).exists()
    # A withdrawal still goes through.
    assert http.post(EVENTS, withdraw(), format="json").status_code == 201


def test_a_grant_for_a_person_who_stopped_use_is_409(shop):
    row, http = shop
    customer = person(row, "C-1")
    PersonRestriction.objects.create(customer=customer, stop_use=True)
    body = problem(http.post(EVENTS, grant(), format="json"), 409)
    assert "stop using" in body["detail"]
    assert state_of(customer) is None


def test_unknown_customer_purpose_policy_or_a_future_time_is_422_and_changes_nothing(shop):
    row, http = shop
    person(row, "C-1")
    assert (
        "customer"
        in problem(http.post(EVENTS, grant(customer="C-404"), format="json"), 422)["errors"]
    )
    assert (
        "purpose" in problem(http.post(EVENTS, grant(purpose="nope"), format="json"), 422)["errors"]
    )
    assert (
        "evidence.policy_version"
        in problem(http.post(EVENTS, grant(policy_version="9.9"), format="json"), 422)["errors"]
    )
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert (
        "evidence.at" in problem(http.post(EVENTS, grant(at=future), format="json"), 422)["errors"]
    )
    assert (
        "evidence.source"
        in problem(http.post(EVENTS, grant(source="email_confirmation"), format="json"), 422)[
            "errors"
        ]
    )
    assert not ConsentEvent.objects.exists()


def test_a_customer_of_another_client_is_unknown(make_api):
    first, first_http = make_api(name="first")
    second, _second_http = make_api(name="second")
    person(second, "C-1")
    problem(first_http.post(EVENTS, grant(), format="json"), 422)
    problem(first_http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}), 404)
    assert not ConsentEvent.objects.exists()
    assert first != second


def test_an_older_grant_does_not_override_a_later_withdrawal(shop):
    row, http = shop
    customer = person(row, "C-1")
    assert http.post(EVENTS, withdraw(), format="json").status_code == 201
    # A sync reports a checkout from yesterday, after the person withdrew today.
    yesterday = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    body = problem(http.post(EVENTS, grant(at=yesterday), format="json"), 422)
    assert "later choice" in body["detail"]
    assert state_of(customer) == ConsentState.Status.WITHDRAWN
    # A grant made after the withdrawal is recorded.
    assert http.post(EVENTS, grant(at=timezone.now().isoformat()), format="json").status_code == 201
    assert state_of(customer) == ConsentState.Status.GRANTED


def test_a_grant_under_a_policy_older_than_the_purposes_widening_is_refused(shop):
    row, http = shop
    customer = person(row, "C-1")
    widening = PolicyVersion.objects.create(
        version="2.0", title="v2", body_ja="...", widens_purposes=True, published_at=timezone.now()
    )
    Purpose.objects.filter(code="newsletter").update(scope_version=widening)
    body = problem(http.post(EVENTS, grant(policy_version="1.0"), format="json"), 422)
    assert "widened" in body["detail"]
    assert state_of(customer) is None
    assert http.post(EVENTS, grant(policy_version="2.0"), format="json").status_code == 201


def test_a_grant_does_not_lift_a_suppression(shop):
    row, http = shop
    customer = person(row, "C-1")
    newsletter = Purpose.objects.get(code="newsletter")
    MailMagazine.objects.create(
        name="News", slug="news", purpose=newsletter, from_name="Shop", from_email="s@example.com"
    )
    SuppressedAddress.objects.create(
        address_hash=address_hash(customer.email), reason=SuppressedAddress.Reason.UNSUBSCRIBED
    )
    response = http.post(EVENTS, grant(), format="json")
    assert response.status_code == 201
    assert response.json()["suppressed"] is True
    assert SuppressedAddress.objects.filter(address_hash=address_hash(customer.email)).exists()
    assert not Subscription.objects.exists()


def test_a_members_grant_waits_for_the_confirmed_address(shop):
    row, http = shop
    user = User.objects.create_user(email="member@example.com", password="x" * 12)
    person(row, "C-1", user=user)
    assert http.post(EVENTS, grant(), format="json").status_code == 201
    check = http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).json()
    assert check == {**check, "allowed": False, "status": "pending"}
    again = http.post(EVENTS, grant(), format="json")
    assert again.json()["status"] == "unchanged"


def test_the_same_idempotency_key_records_once(shop):
    row, http = shop
    customer = person(row, "C-1")
    first = http.post(
        EVENTS, grant(at="2026-01-01T00:00:00Z"), format="json", HTTP_IDEMPOTENCY_KEY="e-1"
    )
    again = http.post(
        EVENTS, grant(at="2026-01-01T00:00:00Z"), format="json", HTTP_IDEMPOTENCY_KEY="e-1"
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert ConsentEvent.objects.filter(customer=customer).count() == 1
    problem(http.post(EVENTS, withdraw(), format="json", HTTP_IDEMPOTENCY_KEY="e-1"), 422)
    assert state_of(customer) == ConsentState.Status.GRANTED


def test_scopes_write_for_events_read_for_checks(make_api):
    reader_row, reader = make_api(["consents:read"], name="reader")
    writer_row, writer = make_api(["consents:write"], name="writer")
    person(reader_row, "C-1")
    person(writer_row, "C-1")
    problem(reader.post(EVENTS, grant(), format="json"), 403)
    problem(reader.post(BULK, [grant()], format="json"), 403)
    problem(writer.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}), 403)
    problem(writer.post(BATCH, {"purpose": "newsletter", "customers": ["C-1"]}, format="json"), 403)
    assert not ConsentEvent.objects.exists()
    assert reader.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).status_code == 200


def test_the_access_log_names_the_ledger_event_and_no_values(shop):
    row, http = shop
    person(row, "C-1")
    response = http.post(EVENTS, grant(), format="json")
    entry = ApiCallLog.objects.get(client_id=row.pk)
    assert (entry.action, entry.status_code) == ("consents.event.post", 201)
    assert entry.object_ids == [str(response.json()["id"])]
    assert "203.0.113.7" not in json.dumps(entry.object_ids)


# ---------------------------------------------------------------------- bulk


def test_bulk_answers_per_item_and_records_only_the_good_ones(shop):
    row, http = shop
    alice = person(row, "C-1")
    person(row, "C-2", status=Customer.Status.ERASED)
    items = [
        grant("C-1"),
        {"customer": "C-1", "purpose": "remarketing", "action": "grant"},  # no evidence
        grant("C-2"),  # erased
        grant("C-404"),  # unknown
        {"customer": "C-1", "purpose": "analytics"},  # no action
        withdraw("C-1", "analytics"),
        "not an object",
    ]
    response = http.post(BULK, items, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "recorded"),
        (1, "refused"),
        (2, "conflict"),
        (3, "error"),
        (4, "error"),
        (5, "recorded"),
        (6, "error"),
    ]
    assert "action" in results[4]["errors"] and "customer" in results[3]["errors"]
    assert results[0]["id"] and results[1]["id"] is None
    assert state_of(alice) == "granted" and state_of(alice, "analytics") == "withdrawn"
    assert state_of(alice, "remarketing") is None
    assert ConsentEvent.objects.count() == 2


def test_bulk_refuses_a_body_that_is_not_a_list_or_too_long(shop):
    row, http = shop
    person(row, "C-1")
    problem(http.post(BULK, grant(), format="json"), 422)
    problem(http.post(BULK, [withdraw()] * 1001, format="json"), 422)
    assert not ConsentEvent.objects.exists()


def test_bulk_later_items_see_earlier_ones(shop):
    row, http = shop
    customer = person(row, "C-1")
    now = timezone.now()
    items = [
        grant(at=(now - datetime.timedelta(minutes=3)).isoformat()),
        withdraw(at=(now - datetime.timedelta(minutes=2)).isoformat()),
        grant(at=(now - datetime.timedelta(minutes=5)).isoformat()),  # older than the withdrawal
        withdraw(),
    ]
    results = http.post(BULK, items, format="json").json()["results"]
    assert [r["status"] for r in results] == ["recorded", "recorded", "refused", "unchanged"]
    assert state_of(customer) == "withdrawn"


def test_bulk_reads_a_fixed_number_of_queries_whatever_its_size(shop):
    row, _http = shop
    people = [person(row, f"C-{i}") for i in range(40)]
    consent_events_apply(
        client=row, items=[_grant_in(f"C-{i}") for i in range(len(people))]
    )  # all granted already: the batches below change nothing, so only reads remain

    def count(n: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            results = consent_events_apply(
                client=row, items=[_grant_in(f"C-{i}") for i in range(n)]
            )
        assert {r.status for r in results} == {"unchanged"}
        return len(queries)

    assert count(40) == count(4)


def test_bulk_writes_in_a_fixed_number_of_queries_whatever_its_size(shop):
    row, _http = shop
    for i in range(50):
        person(row, f"C-{i}")
    consent_events_apply(client=row, items=[_grant_in("C-49")])  # the wording exists

    def count(ids) -> int:
        items = [_grant_in(f"C-{i}") for i in ids] + [
            _grant_in(f"C-{i}", "remarketing") for i in ids
        ]
        with CaptureQueriesContext(connection) as queries:
            results = consent_events_apply(client=row, items=items)
        assert {r.status for r in results} == {"recorded"}
        return len(queries)

    assert count(range(0, 4)) == count(range(4, 44))


def test_a_dry_run_changes_nothing_and_says_what_would_happen(shop):
    row, _http = shop
    customer = person(row, "C-1")
    results = consent_events_apply(
        client=row,
        items=[_grant_in("C-1"), ConsentEventIn("C-1", "remarketing", "grant")],
        dry_run=True,
    )
    assert [r.status for r in results] == ["recorded", "refused"]
    assert not ConsentEvent.objects.exists() and state_of(customer) is None
    assert not ExternalConsentEvent.objects.exists()


def test_a_time_without_a_zone_is_the_shops_local_time(shop, settings):
    row, _http = shop
    person(row, "C-1")
    settings.TIME_ZONE = "Asia/Tokyo"
    item = _grant_in("C-1")
    naive = datetime.datetime(2026, 4, 1, 9, 0)  # as an import's date column gives it
    (result,) = consent_events_apply(
        client=row,
        items=[
            ConsentEventIn("C-1", "newsletter", "grant", evidence=replace(item.evidence, at=naive))
        ],
    )
    assert result.status == "recorded", result.errors
    kept = ExternalConsentEvent.objects.get(event_id=result.object_id).occurred_at
    assert kept == datetime.datetime(2026, 4, 1, 0, 0, tzinfo=datetime.UTC)


def _grant_in(external_id: str, purpose: str = "newsletter") -> ConsentEventIn:
    return ConsentEventIn(
        customer_external_id=external_id,
        purpose=purpose,
        action="grant",
        evidence=Evidence(
            policy_version="1.0",
            source=Source.IMPORT,
            at=timezone.now() - datetime.timedelta(days=1),
            wording=WORDING,
        ),
    )


# ---------------------------------------------------------------------- check


def test_the_check_answers_each_status(shop):
    row, http = shop
    person(row, "C-1")
    never = http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).json()
    assert never == {
        "customer": "C-1",
        "purpose": "newsletter",
        "allowed": False,
        "status": "never_asked",
        "since": None,
    }
    # A purpose that needs no opt-in is allowed until the person opts out.
    assert http.get(CHECK, {"customer": "C-1", "purpose": "fulfil_sales"}).json()["allowed"]
    http.post(EVENTS, grant(), format="json")
    granted = http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).json()
    assert granted["allowed"] is True and granted["status"] == "granted" and granted["since"]


def test_a_restricted_person_with_a_grant_is_not_allowed(shop):
    row, http = shop
    customer = person(row, "C-1")
    http.post(EVENTS, grant(), format="json")
    PersonRestriction.objects.create(customer=customer, stop_use=True)
    check = http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).json()
    assert check["status"] == "granted" and check["allowed"] is False


def test_the_check_refuses_missing_parameters_and_unknown_purposes(shop):
    row, http = shop
    person(row, "C-1")
    assert "purpose" in problem(http.get(CHECK, {"customer": "C-1"}), 422)["errors"]
    assert (
        "purpose" in problem(http.get(CHECK, {"customer": "C-1", "purpose": "nope"}), 422)["errors"]
    )
    problem(http.get(CHECK, {"customer": "C-404", "purpose": "newsletter"}), 404)


def test_the_check_is_one_query(shop, django_assert_num_queries):
    row, http = shop
    person(row, "C-1")
    http.post(EVENTS, grant(), format="json")
    with django_assert_num_queries(1):
        (answer,) = consents_check(client=row, external_ids=["C-1"], purpose_code="newsletter")
    assert answer.allowed
    http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"})  # the key's last use is fresh
    # Through HTTP: the key, the check, the access-log row.
    with django_assert_num_queries(3):
        assert http.get(CHECK, {"customer": "C-1", "purpose": "newsletter"}).json()["allowed"]


@pytest.mark.postgres
def test_the_check_reaches_every_table_through_an_index(shop):
    row, _http = shop
    person(row, "C-1")
    consent_events_apply(client=row, items=[_grant_in("C-1")])
    with CaptureQueriesContext(connection) as queries:
        consents_check(client=row, external_ids=["C-1"], purpose_code="newsletter")
    sql = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "consentstate_one_per_customer_purpose" in plan, plan


def test_the_batch_check_answers_each_customer_in_bounded_queries(shop):
    row, http = shop
    for i in range(30):
        person(row, f"C-{i}")
    consent_events_apply(client=row, items=[_grant_in(f"C-{i}") for i in range(0, 30, 2)])
    wanted = [f"C-{i}" for i in range(30)] + ["C-404"]
    http.get(CHECK, {"customer": "C-0", "purpose": "newsletter"})  # the key's last use is fresh
    with CaptureQueriesContext(connection) as queries:
        response = http.post(BATCH, {"purpose": "newsletter", "customers": wanted}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["customer"] for r in body["results"]] == wanted[:30]
    assert [r["allowed"] for r in body["results"]] == [i % 2 == 0 for i in range(30)]
    assert body["unknown"] == ["C-404"]
    assert len(queries) == 3  # the key, the check, the access-log row
    problem(
        http.post(BATCH, {"purpose": "newsletter", "customers": ["x"] * 1001}, format="json"), 422
    )
    problem(http.post(BATCH, {"purpose": "nope", "customers": ["C-1"]}, format="json"), 422)
