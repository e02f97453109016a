"""For any sequence of grants and withdrawals, the current-state table equals the fold of the
ledger, and the selector returns exactly the people whose last event for P is a grant (and who
are neither restricted nor erased)."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.consents import selectors, services
from apps.consents.models import ConsentEvent, ConsentState
from apps.core.privacy import personal_data_erase
from apps.customers.services import customer_restrict
from tests.consents.factories import purpose
from tests.factories import CustomerFactory

PEOPLE = 5
PURPOSES = ("newsletter", "new_products", "third_party_provision")

operations = st.lists(
    st.tuples(
        st.sampled_from(["grant", "withdraw", "restrict", "erase"]),
        st.integers(min_value=0, max_value=PEOPLE - 1),
        st.sampled_from(PURPOSES),
    ),
    max_size=30,
)


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_state_equals_fold_and_selector_matches(ops):
    try:
        with transaction.atomic():
            people = [CustomerFactory() for _ in range(PEOPLE)]
            purposes = {code: purpose(code) for code in PURPOSES}
            restricted, erased = set(), set()
            for op, who, code in ops:
                customer = people[who]
                if customer.pk in erased:
                    continue
                if op == "grant":
                    services.consent_grant(
                        purpose=purposes[code], source="mypage", customer=customer
                    )
                elif op == "withdraw":
                    services.consent_withdraw(
                        purpose=purposes[code], source="mypage", customer=customer
                    )
                elif op == "restrict" and customer.pk not in restricted:
                    customer_restrict(customer=customer, reason="Resale")
                    restricted.add(customer.pk)
                elif op == "erase":
                    personal_data_erase(customer_id=customer.pk)
                    erased.add(customer.pk)

            events = list(ConsentEvent.objects.select_related("policy_version"))
            folded = selectors.fold_ledger(events)
            table = {
                (s.customer_id, None, s.purpose_id): s.status for s in ConsentState.objects.all()
            }
            assert table == folded

            for code, p in purposes.items():
                last = {}
                for e in sorted(events, key=lambda e: (e.occurred_at, e.pk)):
                    if e.purpose_id == p.pk:
                        last[e.customer_id] = e.action
                expected = {
                    pk for pk, action in last.items()
                    if action == "grant" and pk not in restricted and pk not in erased
                }  # fmt: skip
                got = set(selectors.customers_who_may(purpose=p).values_list("pk", flat=True))
                assert got == expected, code
            raise Rollback
    except Rollback:
        pass
