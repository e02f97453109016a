"""customers_import over the real ingest services: what an EC-CUBE or Shopify file does to the
tables, what its dry run shows (and that it changes nothing), all-or-nothing on errors."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.consents.models import ConsentEvent, ConsentState, Purpose, Source
from apps.consents.services import consent_grant
from apps.customers.models import Address, Customer
from apps.integration.imports.parsing import ImportFileError
from apps.integration.imports.service import customers_import
from apps.integration.models import ApiClient, ExternalConsentEvent, ExternalCustomer
from apps.marketing.models import SuppressedAddress
from apps.marketing.selectors import address_hash
from tests.imports.files import (
    ecube_csv,
    ecube_member,
    generic_csv,
    generic_person,
    shopify_csv,
    shopify_customer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ecube():
    return ApiClient.objects.create(name="ec-cube shop", system=ApiClient.System.ECCUBE)


@pytest.fixture
def shopify():
    return ApiClient.objects.create(name="shopify shop", system=ApiClient.System.SHOPIFY)


def run(client, data: bytes, fmt="ecube", *, dry_run=False, **kwargs):
    return customers_import(
        client=client, file=io.BytesIO(data), file_format=fmt, dry_run=dry_run, **kwargs
    )


def snapshot():
    """Every row an import may touch, as values."""
    models = [
        Customer,
        Address,
        ExternalCustomer,
        ConsentEvent,
        ConsentState,
        ExternalConsentEvent,
        SuppressedAddress,
    ]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def newsletter_state(customer):
    state = ConsentState.objects.filter(customer=customer, purpose__code="newsletter").first()
    return state.status if state else None


def imported(client, external_id):
    return ExternalCustomer.objects.get(client=client, external_id=external_id).customer


def test_an_ecube_file_creates_members_with_their_address_under_the_shops_ids(ecube):
    report = run(ecube, ecube_csv([ecube_member(n) for n in (101, 102, 103)]))
    assert report.applied and (report.rows, report.created, report.error_rows) == (3, 3, 0)
    customer = imported(ecube, "102")
    assert (customer.family_name, customer.given_name_kana) == ("山田", "ハナコ")
    assert customer.acquired_via == Customer.AcquiredVia.IMPORT
    address = customer.addresses.get()
    assert (address.postal_code, address.prefecture, address.city) == (
        "530-0001",
        "大阪府",
        "大阪市北区梅田",
    )
    assert not report.changed_fields  # fields changed: on existing customers only


def test_the_mail_magazine_flag_cannot_grant_consent(ecube):
    members = [ecube_member(n, **{"メールマガジン送付について": "1"}) for n in range(1, 6)]
    report = run(ecube, ecube_csv(members))
    assert report.applied and report.grants_without_evidence == 5
    assert report.consents_granted == 0
    assert not ConsentEvent.objects.filter(action=ConsentEvent.Action.GRANT).exists()
    assert not ConsentState.objects.filter(status=ConsentState.Status.GRANTED).exists()


def test_a_no_in_the_flag_withdraws_a_consent_given_here(ecube):
    run(ecube, ecube_csv([ecube_member(1, **{"メールマガジン送付について": ""})]))
    customer = imported(ecube, "1")
    consent_grant(
        purpose=Purpose.objects.get(code="newsletter"), source=Source.MYPAGE, customer=customer
    )
    report = run(ecube, ecube_csv([ecube_member(1, **{"メールマガジン送付について": "0"})]))
    assert report.applied and report.consents_withdrawn == 1 and report.unchanged == 1
    assert newsletter_state(customer) == ConsentState.Status.WITHDRAWN
    event = ConsentEvent.objects.filter(customer=customer).latest("pk")
    assert (event.action, event.source) == (ConsentEvent.Action.WITHDRAW, Source.IMPORT)


def test_the_dry_run_changes_nothing_and_shows_what_the_import_then_does(ecube):
    run(ecube, ecube_csv([ecube_member(1), ecube_member(2)]))
    consent_grant(
        purpose=Purpose.objects.get(code="newsletter"),
        source=Source.MYPAGE,
        customer=imported(ecube, "2"),
    )
    data = ecube_csv(
        [
            ecube_member(1, **{"メールマガジン送付について": ""}),  # unchanged
            ecube_member(2, **{"TEL": "09011112222", "メールマガジン送付について": "0"}),
            ecube_member(3, **{"メールマガジン送付について": "0"}),  # new, says no
            ecube_member(4, **{"メールマガジン送付について": "1"}),  # new, says yes
        ]
    )
    before = snapshot()
    dry = run(ecube, data, dry_run=True)
    assert snapshot() == before
    assert not dry.applied
    assert (dry.created, dry.updated, dry.unchanged) == (2, 1, 1)
    assert (dry.consents_withdrawn, dry.grants_without_evidence, dry.consents_granted) == (2, 1, 0)
    assert dry.changed_fields["phone"] == 1
    # The address with the new phone is added beside the old one (addresses are never deleted).
    assert dry.sample == [{"line": 3, "fields": ["phone", "addresses"]}]

    real = run(ecube, data)
    assert real.applied
    for name in (
        "created",
        "updated",
        "unchanged",
        "consents_withdrawn",
        "grants_without_evidence",
    ):
        assert getattr(real, name) == getattr(dry, name), name
    assert newsletter_state(imported(ecube, "2")) == ConsentState.Status.WITHDRAWN


def test_a_file_with_rows_in_error_changes_nothing_and_lists_every_error_by_line(ecube):
    data = ecube_csv(
        [
            ecube_member(1),
            ecube_member(2, **{"郵便番号": "12"}),  # refused by the customers' validation
            ecube_member(3, **{"メールマガジン送付について": "0"}),
            ecube_member(4, **{"誕生日": "1990-02-30 00:00:00"}),  # refused by the parser
            ecube_member(5, **{"お名前(セイ)": "yamada"}),
        ]
    )
    before = snapshot()
    report = run(ecube, data, chunk_size=2)
    assert snapshot() == before
    assert not report.applied and report.error_rows == 3
    assert [(p.line, list(p.errors)) for p in report.errors] == [
        (3, ["郵便番号"]),
        (5, ["誕生日"]),
        (6, ["お名前(セイ)"]),
    ]
    # The dry run shows the same errors.
    dry = run(ecube, data, dry_run=True)
    assert [p.line for p in dry.errors] == [3, 5, 6]


def test_an_erased_person_is_left_untouched_and_the_other_rows_are_applied(ecube):
    run(ecube, ecube_csv([ecube_member(1), ecube_member(2)]))
    erased = imported(ecube, "1")
    Customer.objects.filter(pk=erased.pk).update(
        status=Customer.Status.ERASED, family_name="", email=""
    )
    report = run(ecube, ecube_csv([ecube_member(1), ecube_member(2, **{"TEL": "0312345678"})]))
    assert report.applied and report.conflicts == 1 and report.updated == 1
    assert [p.line for p in report.refusals] == [2]
    erased.refresh_from_db()
    assert erased.family_name == "" and erased.status == Customer.Status.ERASED


def test_members_who_left_the_shop_are_not_imported(ecube):
    report = run(
        ecube,
        ecube_csv(
            [
                ecube_member(1),
                ecube_member(2, **{"会員ステータス(ID)": "3", "会員ステータス(名称)": "退会"}),
            ]
        ),
    )
    assert report.applied and report.created == 1 and report.skipped_left == 1
    assert not ExternalCustomer.objects.filter(external_id="2").exists()


def test_a_suppressed_address_is_counted_and_stays_suppressed(ecube):
    SuppressedAddress.objects.create(
        address_hash=address_hash("member1@example.jp"), reason="unsubscribed"
    )
    report = run(ecube, ecube_csv([ecube_member(1, **{"メールマガジン送付について": "1"})]))
    assert report.applied and report.suppressed == 1 and report.consents_granted == 0
    assert SuppressedAddress.objects.filter(
        address_hash=address_hash("member1@example.jp")
    ).exists()


def test_a_shopify_export_imports_people_and_applies_its_noes(shopify):
    data = shopify_csv(
        [
            shopify_customer(1, **{"Accepts Email Marketing": "yes"}),
            shopify_customer(2, **{"Accepts Email Marketing": "no"}),
        ]
    )
    before = snapshot()
    dry = run(shopify, data, "shopify", dry_run=True)
    assert snapshot() == before and dry.created == 2
    report = run(shopify, data, "shopify")
    assert report.applied and report.created == 2
    assert (report.grants_without_evidence, report.consents_withdrawn) == (1, 1)
    assert newsletter_state(imported(shopify, "7210448300001")) is None
    assert newsletter_state(imported(shopify, "7210448300002")) == ConsentState.Status.WITHDRAWN
    address = imported(shopify, "7210448300001").addresses.get()
    assert (address.prefecture, address.postal_code) == ("東京都", "150-0001")


def test_the_generic_format_records_a_grant_with_its_evidence(ecube):
    data = generic_csv(
        [
            generic_person(
                1,
                consent_newsletter="yes",
                consent_wording="メールマガジンを受け取る",
                consent_policy_version="1.0",
                consent_source="checkout",
                consent_at="2025-04-01T10:30:00+09:00",
            ),
            generic_person(2, consent_newsletter="yes"),  # no evidence: not granted
        ]
    )
    report = run(ecube, data, "generic")
    assert report.applied and report.consents_granted == 1 and report.grants_without_evidence == 1
    assert newsletter_state(imported(ecube, "G-1")) in (
        ConsentState.Status.GRANTED,
        ConsentState.Status.PENDING,
    )
    assert newsletter_state(imported(ecube, "G-2")) is None
    event = ConsentEvent.objects.get(customer=imported(ecube, "G-1"))
    assert event.source == Source.CHECKOUT and event.wording.text == "メールマガジンを受け取る"


def test_a_grant_naming_an_unknown_policy_version_is_an_error_even_in_the_dry_run(ecube):
    data = generic_csv(
        [
            generic_person(
                1,
                consent_newsletter="yes",
                consent_wording="メールマガジンを受け取る",
                consent_policy_version="9.9",
                consent_source="checkout",
                consent_at="2025-04-01T10:30:00+09:00",
            )
        ]
    )
    dry = run(ecube, data, "generic", dry_run=True)
    assert dry.error_rows == 1 and list(dry.errors[0].errors) == ["consent_policy_version"]


def test_a_second_run_of_the_same_file_changes_nothing(ecube):
    data = ecube_csv([ecube_member(n, **{"メールマガジン送付について": "0"}) for n in range(1, 4)])
    run(ecube, data)
    before = snapshot()
    again = run(ecube, data)
    assert again.applied and (again.unchanged, again.consents_unchanged) == (3, 3)
    assert snapshot() == before


def test_a_file_that_is_not_the_format_changes_nothing(ecube):
    before = snapshot()
    with pytest.raises(ImportFileError):
        run(ecube, shopify_csv([shopify_customer(1)]))
    assert snapshot() == before


def test_queries_per_chunk_do_not_grow_with_the_rows(ecube):
    def queries(n):
        data = ecube_csv([ecube_member(i, **{"メールマガジン送付について": "1"}) for i in range(n)])
        with CaptureQueriesContext(connection) as ctx:
            report = run(ecube, data, chunk_size=1000)
        assert report.created == n
        return len(ctx.captured_queries)

    small = queries(10)
    ExternalCustomer.objects.all().delete()
    assert queries(300) == small
