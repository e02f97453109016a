import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from apps.consents import selectors, services
from apps.consents.models import (
    ConsentEvent,
    ConsentEventContext,
    ConsentState,
    Contractor,
    PolicyVersion,
    ProvisionRecord,
    Source,
    Wording,
)
from apps.core.privacy import RestrictionScope, personal_data_erase, personal_data_restrict
from apps.customers.services import customer_restrict
from tests.consents.factories import purpose
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_grant_appends_an_event_and_sets_the_state():
    customer = CustomerFactory()
    newsletter = purpose("newsletter")
    event = services.consent_grant(
        purpose=newsletter,
        source=Source.MYPAGE,
        customer=customer,
        evidence=services.Evidence(
            wording="メールマガジンを受け取る", ip_address="192.0.2.10", user_agent="Mozilla/5.0"
        ),
    )
    assert event.action == "grant" and event.source == "mypage"
    assert event.policy_version == selectors.policy_current()
    assert event.wording.text == "メールマガジンを受け取る"
    assert event.wording.sha256 == Wording.hash_of("メールマガジンを受け取る")
    assert event.context.ip_address == "192.0.2.10"
    state = ConsentState.objects.get(customer=customer, purpose=newsletter)
    assert state.status == "granted" and state.last_event == event

    services.consent_withdraw(purpose=newsletter, source=Source.MYPAGE, customer=customer)
    state.refresh_from_db()
    assert state.status == "withdrawn"
    assert ConsentEvent.objects.filter(customer=customer).count() == 2


def test_the_same_wording_is_stored_once():
    a, b = CustomerFactory(), CustomerFactory()
    for c in (a, b):
        services.consent_grant(
            purpose=purpose("newsletter"),
            source="signup",
            customer=c,
            evidence=services.Evidence(wording="w"),
        )
    assert Wording.objects.filter(text="w").count() == 1


def test_consent_set_writes_only_changes():
    customer = CustomerFactory()
    p = purpose("newsletter")
    assert services.consent_set(purpose=p, granted=True, source="mypage", customer=customer)
    assert services.consent_set(purpose=p, granted=True, source="mypage", customer=customer) is None
    assert ConsentEvent.objects.filter(customer=customer).count() == 1


def test_unknown_source_is_refused_and_nothing_written():
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.consent_grant(
            purpose=purpose("newsletter"), source="carrier-pigeon", customer=customer
        )
    assert not ConsentEvent.objects.exists() and not ConsentState.objects.exists()


def test_events_refuse_save_and_delete_through_the_orm():
    customer = CustomerFactory()
    event = services.consent_grant(
        purpose=purpose("newsletter"), source="signup", customer=customer
    )
    event.source = "admin"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        ConsentEvent.objects.filter(pk=event.pk).update(source="admin")
    with pytest.raises(PermissionError):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.get(pk=event.pk).source == "signup"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consents_consentevent SET action = 'withdraw' WHERE id = %s",
        "DELETE FROM consents_consentevent WHERE id = %s",
    ],
)
def test_raw_sql_cannot_rewrite_the_ledger_on_postgresql(sql):
    customer = CustomerFactory()
    event = services.consent_grant(
        purpose=purpose("newsletter"), source="signup", customer=customer
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert ConsentEvent.objects.get(pk=event.pk).action == "grant"


def _widening_version(*purposes_widened):
    version = PolicyVersion.objects.create(
        version="2.0", title="v2", body_ja="新しい方針", widens_purposes=True,
        change_summary="Mail magazines now include partner offers",
    )  # fmt: skip
    version.widened_purposes.set(purposes_widened)
    return version


def test_widening_version_asks_again_and_old_consent_no_longer_counts():
    newsletter, analytics = purpose("newsletter"), purpose("new_products")
    customer = CustomerFactory()
    for p in (newsletter, analytics):
        services.consent_grant(purpose=p, source="signup", customer=customer)
    assert customer in selectors.customers_who_may(purpose=newsletter)

    services.policy_version_publish(version=_widening_version(newsletter))

    assert ConsentState.objects.get(customer=customer, purpose=newsletter).status == "pending"
    assert ConsentState.objects.get(customer=customer, purpose=analytics).status == "granted"
    assert customer not in selectors.customers_who_may(purpose=newsletter)
    assert selectors.pending_confirmations_for(customer=customer).count() == 1

    services.consent_grant(purpose=newsletter, source="mypage", customer=customer)
    assert customer in selectors.customers_who_may(purpose=newsletter)
    # The fold of the ledger agrees with the state table after all of this.
    folded = selectors.fold_ledger(ConsentEvent.objects.select_related("policy_version"))
    assert folded[(customer.pk, None, newsletter.pk)] == "granted"


def test_a_published_version_cannot_be_published_again():
    version = PolicyVersion.objects.create(version="1.1", title="t", body_ja="x")
    services.policy_version_publish(version=version)
    with pytest.raises(ValidationError):
        services.policy_version_publish(version=version)


def test_a_widening_version_must_name_what_it_widens():
    version = PolicyVersion.objects.create(
        version="3.0", title="t", body_ja="x", widens_purposes=True
    )
    with pytest.raises(ValidationError):
        services.policy_version_publish(version=version)
    version.refresh_from_db()
    assert version.published_at is None


def test_selector_excludes_restricted_erased_and_stopped_people():
    newsletter = purpose("newsletter")
    ok, restricted, erased, stopped, never = (CustomerFactory() for _ in range(5))
    for c in (ok, restricted, erased, stopped):
        services.consent_grant(purpose=newsletter, source="signup", customer=c)
    customer_restrict(customer=restricted, reason="Resale")
    personal_data_erase(customer_id=erased.pk)
    personal_data_restrict(customer_id=stopped.pk, scope=RestrictionScope.STOP_USE)
    assert list(selectors.customers_who_may(purpose=newsletter)) == [ok]
    # A purpose that needs no opt-in covers everyone active and not stopped.
    assert set(selectors.customers_who_may(purpose=purpose("fulfil_sales"))) == {ok, never}


def test_erasure_withdraws_every_consent_and_drops_ip_and_user_agent():
    customer = CustomerFactory()
    services.consent_grant(
        purpose=purpose("newsletter"), source="signup", customer=customer,
        evidence=services.Evidence(ip_address="192.0.2.1", user_agent="UA"),
    )  # fmt: skip
    report = personal_data_erase(customer_id=customer.pk)
    assert report.anonymised["consents.ConsentState"] == 1
    assert not ConsentEventContext.objects.exists()
    assert set(ConsentState.objects.filter(customer=customer).values_list("status", flat=True)) == {
        "withdrawn"
    }
    last = ConsentEvent.objects.filter(customer=customer).order_by("-pk").first()
    assert last.action == "withdraw" and last.source == "privacy_request"
    again = personal_data_erase(customer_id=customer.pk)
    assert not again.changed_anything
    with pytest.raises(ValidationError):
        services.consent_grant(purpose=purpose("newsletter"), source="mypage", customer=customer)


def test_cookie_choices_made_before_login_are_exported_and_erased_with_the_person():
    import uuid

    from apps.core.privacy import personal_data_export

    def export(customer_id):  # the app's exported sections' raw rows, by section key
        return personal_data_export(customer_id=customer_id)["consents"]

    customer, visitor = CustomerFactory(), uuid.uuid4()
    stranger = uuid.uuid4()
    for who in (visitor, stranger):
        services.consent_grant(
            purpose=purpose("analytics"), source="cookie_banner", visitor_id=who,
            evidence=services.Evidence(
                ip_address="192.0.2.44", user_agent="Mozilla/5.0 (cookie banner)"
            ),
        )  # fmt: skip
    services.visitor_link(visitor_id=visitor, customer=customer)  # they logged in
    history = export(customer.pk)["consent_history"]
    assert "192.0.2.44" in [e["ip_address"] for e in history]  # the choice made as a visitor

    personal_data_erase(customer_id=customer.pk)

    kept = ConsentEventContext.objects.all()
    assert [c.event.visitor_id for c in kept] == [stranger]  # only the other visitor's


# ---------------------------------------------------------------- provision


def _provide(customers, basis="consent", **kwargs):
    return services.provision_record_create(
        customers=customers,
        recipient_name="株式会社パートナー",
        recipient_address="東京都港区1-1",
        recipient_representative="代表取締役 佐藤",
        data_items="氏名, メールアドレス",
        basis=basis,
        **kwargs,
    )


def test_provision_on_consent_needs_consent():
    agreed, silent = CustomerFactory(), CustomerFactory()
    services.consent_grant(
        purpose=purpose("third_party_provision"), source="mypage", customer=agreed
    )
    record = _provide([agreed])
    assert list(record.customers.all()) == [agreed]
    assert record.retain_until.year == record.provided_on.year + 3
    with pytest.raises(ValidationError) as exc:
        _provide([agreed, silent])
    assert f"#{silent.pk}" in str(exc.value)
    assert ProvisionRecord.objects.count() == 1


def test_provision_is_refused_to_someone_who_stopped_it():
    customer = CustomerFactory()
    services.consent_grant(
        purpose=purpose("third_party_provision"), source="mypage", customer=customer
    )
    personal_data_restrict(customer_id=customer.pk, scope=RestrictionScope.STOP_PROVISION)
    contractor = Contractor.objects.create(
        name="配送株式会社", address="大阪", data_items="氏名, 住所", purpose="配送",
        safeguards="秘密保持契約",
    )  # fmt: skip
    with pytest.raises(ValidationError):
        _provide([customer], basis="consent")
    assert not ProvisionRecord.objects.exists()
    # Consignment is not provision (APPI Art. 27(5)(i)): a stop of provision does not stop it.
    _provide([customer], basis="consignment", contractor=contractor)
    assert ProvisionRecord.objects.count() == 1


def test_legal_inquiries_need_a_reference_and_are_recorded():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        _provide([customer], basis="police")
    assert "legal_reference" in exc.value.error_dict
    record = _provide([customer], basis="police", legal_reference="警視庁 捜査関係事項照会 第123号")
    assert record.basis == "police"


def test_restriction_can_be_lifted_and_is_idempotent():
    customer = CustomerFactory()
    assert personal_data_restrict(customer_id=customer.pk, scope="stop_use") == {"consents": 1}
    assert personal_data_restrict(customer_id=customer.pk, scope="stop_use") == {"consents": 0}
    personal_data_restrict(customer_id=customer.pk, scope="stop_use", active=False)
    assert customer in selectors.customers_who_may(purpose=purpose("fulfil_sales"))


def test_the_ledger_is_append_only_like_every_append_only_table():
    """One implementation (apps/core/append_only.py) for the ledger, the access log and staff
    actions: a bulk update is refused too, with the same error."""
    from apps.core.append_only import AppendOnlyError, AppendOnlyModel

    event = services.consent_grant(
        purpose=purpose("newsletter"), source="signup", customer=CustomerFactory()
    )
    assert issubclass(ConsentEvent, AppendOnlyModel)
    event.source = "admin"
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.bulk_update([event], ["source"])
    with pytest.raises(AppendOnlyError):
        event.save()
    assert ConsentEvent.objects.get(pk=event.pk).source == "signup"
