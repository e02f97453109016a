"""The ledger's bulk path keeps the single path's rules: the current state is what the ledger
implies, a member's opt-in waits for their confirmed address, nothing is granted to an erased
person, and a batch costs a fixed number of statements."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.consents.models import ConsentEvent, ConsentEventContext, ConsentState, Purpose, Wording
from apps.consents.selectors import fold_ledger
from apps.consents.services import Evidence, LedgerEntry, consent_events_record, consent_grant
from apps.customers.models import Customer, User

pytestmark = pytest.mark.django_db


def purposes(*codes):
    found = {p.code: p for p in Purpose.objects.filter(code__in=codes)}
    return [found[code] for code in codes]


def people(n):
    return Customer.objects.bulk_create(
        [Customer(family_name="x", email=f"b{i}@example.com") for i in range(n)]
    )


def current_states():
    return {
        (s.customer_id, None, s.purpose_id): s.status
        for s in ConsentState.objects.filter(customer__isnull=False)
    }


def test_the_states_are_what_the_ledger_implies():
    newsletter, remarketing = purposes("newsletter", "remarketing")
    alice, bob = people(2)
    consent_grant(purpose=newsletter, source="mypage", customer=bob)  # an existing state
    events = consent_events_record(
        entries=[
            LedgerEntry(customer=alice, purpose=newsletter, granted=True, source="checkout"),
            LedgerEntry(customer=alice, purpose=newsletter, granted=False, source="storefront"),
            LedgerEntry(customer=alice, purpose=remarketing, granted=True, source="checkout"),
            LedgerEntry(customer=bob, purpose=newsletter, granted=False, source="storefront"),
        ]
    )
    assert [e.action for e in events] == ["grant", "withdraw", "grant", "withdraw"]
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    assert current_states() == fold_ledger(ConsentEvent.objects.select_related("policy_version"))
    assert current_states()[(alice.pk, None, newsletter.pk)] == "withdrawn"
    assert current_states()[(bob.pk, None, newsletter.pk)] == "withdrawn"


def test_evidence_is_kept_and_each_wording_stored_once():
    (newsletter,) = purposes("newsletter")
    alice, bob = people(2)
    events = consent_events_record(
        entries=[
            LedgerEntry(
                customer=alice,
                purpose=newsletter,
                granted=True,
                source="checkout",
                evidence=Evidence(wording="Send me news", ip_address="192.0.2.1", user_agent="UA"),
            ),
            LedgerEntry(
                customer=bob,
                purpose=newsletter,
                granted=True,
                source="checkout",
                evidence=Evidence(wording="Send me news"),
            ),
        ]
    )
    assert Wording.objects.filter(text="Send me news").count() == 1
    assert {e.wording.text for e in events} == {"Send me news"}
    assert events[0].policy_version is not None  # the current one when none is given
    context = ConsentEventContext.objects.get()
    assert (context.event_id, context.ip_address, context.user_agent) == (
        events[0].pk,
        "192.0.2.1",
        "UA",
    )


def test_a_members_opt_in_waits_for_the_confirmed_address_a_cookie_choice_does_not():
    newsletter, analytics = purposes("newsletter", "analytics")
    member = Customer.objects.create(
        family_name="x", user=User.objects.create_user(email="m@example.com", password="x" * 12)
    )
    confirmed = Customer.objects.create(
        family_name="y",
        user=User.objects.create_user(
            email="c@example.com", password="x" * 12, email_confirmed_at=timezone.now()
        ),
    )
    events = consent_events_record(
        entries=[
            LedgerEntry(customer=member, purpose=newsletter, granted=True, source="checkout"),
            LedgerEntry(customer=member, purpose=analytics, granted=True, source="cookie_banner"),
            LedgerEntry(customer=confirmed, purpose=newsletter, granted=True, source="checkout"),
        ]
    )
    assert [e.action for e in events] == ["pending", "grant", "grant"]
    assert current_states()[(member.pk, None, newsletter.pk)] == "pending"


def test_no_grant_for_an_erased_person_and_nothing_written():
    (newsletter,) = purposes("newsletter")
    alice, erased = people(2)
    Customer.objects.filter(pk=erased.pk).update(status=Customer.Status.ERASED)
    with pytest.raises(ValidationError):
        consent_events_record(
            entries=[
                LedgerEntry(customer=alice, purpose=newsletter, granted=True, source="checkout"),
                LedgerEntry(customer=erased, purpose=newsletter, granted=True, source="checkout"),
            ]
        )
    assert not ConsentEvent.objects.exists() and not ConsentState.objects.exists()
    with pytest.raises(ValidationError):
        consent_events_record(
            entries=[LedgerEntry(customer=alice, purpose=newsletter, granted=True, source="nope")]
        )


@pytest.mark.postgres  # SQLite splits statements by its limit on parameters
def test_a_batch_costs_the_same_statements_whatever_its_size():
    newsletter, remarketing = purposes("newsletter", "remarketing")
    crowd = people(100)
    consent_events_record(
        entries=[
            LedgerEntry(customer=c, purpose=newsletter, granted=True, source="checkout")
            for c in crowd
        ]
    )

    def statements(n):
        batch = [
            LedgerEntry(
                customer=c,
                purpose=p,
                granted=False,
                source="storefront",
                evidence=Evidence(ip_address="192.0.2.1"),
            )
            for c in crowd[:n]
            for p in (newsletter, remarketing)  # an existing state and a new one each
        ]
        with CaptureQueriesContext(connection) as queries:
            consent_events_record(entries=batch)
        return len(queries)

    statements(1)  # the wordings exist from here on
    assert statements(5) == statements(100)
    assert current_states() == fold_ledger(ConsentEvent.objects.select_related("policy_version"))
