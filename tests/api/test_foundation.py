"""The API's ground rules, over a small resource of the tests' own (tests/api/urls.py): keys,
scopes, the client's rate limit, problem details, Idempotency-Key, the access log."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.customers.models import Customer
from apps.integration.api import authentication
from apps.integration.models import ApiCallLog, ApiClient, ApiKey, IdempotencyRecord
from apps.integration.services import api_key_issue, api_keys_revoke

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls")]

URL = "/api/v1/tests/guests/"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == status and body["title"] and "type" in body
    return body


def test_no_key_or_a_wrong_key_is_401_with_a_problem():
    anonymous = APIClient()
    body = _problem(anonymous.post(URL, {"family_name": "x"}, format="json"), 401)
    assert body["detail"]
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer spk_00000000.nope")
    _problem(anonymous.post(URL, {"family_name": "x"}, format="json"), 401)
    anonymous.credentials(HTTP_AUTHORIZATION="Basic abc")
    _problem(anonymous.post(URL, {"family_name": "x"}, format="json"), 401)
    assert Customer.objects.count() == 0


def test_only_the_hash_of_a_key_is_stored(make_api):
    row, http = make_api()
    stored = ApiKey.objects.get(client=row)
    assert http.key not in (stored.prefix, stored.key_hash)
    assert http.key.startswith(stored.prefix + ".")
    assert http.post(URL, {"family_name": "x"}, format="json").status_code == 201


def test_a_key_without_the_scope_is_403(make_api):
    _row, http = make_api(scopes=["consents:read"])
    body = _problem(http.post(URL, {"family_name": "x"}, format="json"), 403)
    assert "customers:write" in body["detail"]
    assert Customer.objects.count() == 0


def test_rotation_keeps_the_old_key_for_the_overlap_then_stops_it(make_api, settings):
    settings.API_KEY_ROTATION_OVERLAP_HOURS = 24
    row, old = make_api()
    new_key = api_key_issue(client=row)
    new = APIClient()
    new.credentials(HTTP_AUTHORIZATION=f"Bearer {new_key}")
    assert old.get(URL).status_code == 200 and new.get(URL).status_code == 200
    old_row = ApiKey.objects.get(prefix=old.key.partition(".")[0])
    assert old_row.expires_at - timezone.now() > datetime.timedelta(hours=23)
    ApiKey.objects.filter(pk=old_row.pk).update(expires_at=timezone.now())
    _problem(old.get(URL), 401)
    assert new.get(URL).status_code == 200


def test_revocation_stops_every_key_at_once(make_api):
    row, http = make_api()
    assert api_keys_revoke(client=row) == 1
    _problem(http.get(URL), 401)


def test_a_kept_key_is_read_again_within_the_cache_seconds(make_api, settings, monkeypatch):
    """Each process keeps a key it has read for API_KEY_CACHE_SECONDS: a change made elsewhere
    (another process revoking, a client made inactive) is seen within those seconds."""
    settings.API_KEY_CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(authentication, "_clock", lambda: now[0])
    authentication.forget_keys()
    row, http = make_api()
    assert http.get(URL).status_code == 200
    # As another process would: straight in the database, this process's copy not told.
    ApiClient.objects.filter(pk=row.pk).update(is_active=False)
    now[0] += 4.9
    assert http.get(URL).status_code == 200  # the kept copy, for at most 5 seconds
    now[0] += 0.2
    _problem(http.get(URL), 401)
    ApiClient.objects.filter(pk=row.pk).update(is_active=True)
    now[0] += 5.1
    assert http.get(URL).status_code == 200
    # Revoking through the service forgets the kept keys of this process at once.
    assert api_keys_revoke(client=row) == 1
    _problem(http.get(URL), 401)
    authentication.forget_keys()


def test_an_inactive_client_is_refused(make_api):
    row, http = make_api()
    row.is_active = False
    row.save()
    _problem(http.get(URL), 401)


def test_last_use_is_recorded(make_api):
    row, http = make_api()
    assert http.get(URL).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None
    assert ApiKey.objects.get(client=row).last_used_at is not None


def test_validation_errors_are_422_with_field_errors_and_change_nothing(api):
    body = _problem(api.post(URL, {"family_name": ""}, format="json"), 422)
    assert list(body["errors"]) == ["family_name"]
    assert Customer.objects.count() == 0


def test_a_body_that_is_not_json_is_400(api):
    response = api.post(URL, data="{not json", content_type="application/json")
    _problem(response, 400)
    assert Customer.objects.count() == 0


def test_each_client_has_its_own_rate_limit(make_api):
    _slow_row, slow = make_api(name="slow", rate_limit="2/m")
    _fast_row, fast = make_api(name="fast")
    assert slow.get(URL).status_code == 200
    assert slow.get(URL).status_code == 200
    response = slow.get(URL)
    _problem(response, 429)
    assert int(response["Retry-After"]) >= 1
    assert fast.get(URL).status_code == 200


def test_a_repeated_idempotency_key_returns_the_first_answer_and_runs_once(api):
    first = api.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422_and_changes_nothing(api):
    api.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    body = _problem(
        api.post(URL, {"family_name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 422
    )
    assert "different request" in body["detail"]
    assert Customer.objects.count() == 1


def test_a_failed_request_stores_no_answer_so_it_can_be_corrected(api):
    _problem(api.post(URL, {"family_name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"), 422)
    assert not IdempotencyRecord.objects.exists()
    fixed = api.post(URL, {"family_name": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert fixed.status_code == 201


def test_idempotency_keys_belong_to_one_client(make_api):
    _a, first = make_api(name="a")
    _b, second = make_api(name="b")
    first.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    second.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert Customer.objects.count() == 2


def test_a_malformed_idempotency_key_is_400(api):
    _problem(
        api.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256), 400
    )
    assert Customer.objects.count() == 0


def test_every_call_is_in_the_access_log_with_ids_and_no_values(make_api):
    row, http = make_api()
    response = http.post(URL, {"family_name": "山田"}, format="json")
    _problem(http.post(URL, {"family_name": ""}, format="json"), 422)
    entries = list(ApiCallLog.objects.filter(client_id=row.pk).order_by("pk"))
    assert [(e.action, e.status_code) for e in entries] == [
        ("tests.guests.post", 201),
        ("tests.guests.post", 422),
    ]
    assert entries[0].object_ids == [str(response.json()["id"])]
    assert "山田" not in json.dumps([e.object_ids for e in entries])


def test_the_schema_and_the_docs_are_served_locally():
    http = APIClient()
    schema = http.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = http.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        "config.urls",
        "--file",
        str(out),
    )
    assert "/api/v1/tests/guests/" not in out.read_text()  # the project's schema only
    assert out.read_text().startswith("openapi: 3")


def test_idempotency_answers_are_dropped_after_a_day(make_api):
    from apps.core.services import retention_run

    _row, http = make_api()
    http.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    http.post(URL, {"family_name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    assert retention_run(today=timezone.localdate())["api_idempotency"] == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
