"""The selector answers "who may we use for P now" from the partial index on granted states."""

import pytest
from django.db import connection

from apps.consents.models import ConsentEvent, ConsentState, Purpose, Wording
from apps.consents.selectors import customers_who_may
from apps.customers.models import Customer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

N = 12_000


def test_selector_uses_an_index_on_a_large_table():
    purposes = list(Purpose.objects.filter(requires_opt_in=True).order_by("pk"))
    target = next(p for p in purposes if p.code == "newsletter")
    Customer.objects.bulk_create(
        [Customer(family_name="x", email=f"c{i}@example.com") for i in range(N)], batch_size=2000
    )
    ids = list(Customer.objects.values_list("pk", flat=True))
    wording = Wording.objects.create(sha256="0" * 64, text="w")
    # Raw inserts: one event per row would take minutes through the service at this size.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO consents_consentevent
                (customer_id, purpose_id, action, source, occurred_at, wording_id)
            SELECT c.id, p.id, 'grant', 'import', now(), %s
            FROM customers_customer c CROSS JOIN consents_purpose p
            WHERE p.requires_opt_in AND (c.id + p.id) %% 3 = 0
            """,
            [wording.pk],
        )
        cursor.execute(
            """
            INSERT INTO consents_consentstate (customer_id, purpose_id, status, last_event_id, updated_at)
            SELECT e.customer_id, e.purpose_id,
                   CASE WHEN e.customer_id %% 5 = 0 THEN 'withdrawn' ELSE 'granted' END, e.id, now()
            FROM consents_consentevent e
            """,
            [],
        )
        cursor.execute("ANALYZE")
    assert ConsentState.objects.count() > 10_000
    assert ConsentEvent.objects.count() > 10_000

    plan = customers_who_may(purpose=target).explain()
    assert "consentstate_granted_idx" in plan, plan
    assert "Index" in plan
    expected = ConsentState.objects.filter(purpose=target, status="granted").count()
    assert customers_who_may(purpose=target).count() == expected
    assert len(ids) == N
