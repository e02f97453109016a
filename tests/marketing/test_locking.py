"""Unsubscribing (and so erasure) locks the person's subscription row only, never the shared
magazine or purpose rows: otherwise every unsubscribe and every erasure of a magazine's readers
waits for the one before it (found by bench_erasure: two workers ran one at a time)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.consents.models import Purpose
from apps.marketing import services
from apps.marketing.models import MailMagazine
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]  # SQLite has no row locks


def test_unsubscribe_locks_only_the_subscription():
    magazine = MailMagazine.objects.create(
        name="Weekly", slug="weekly", purpose=Purpose.objects.get(code="newsletter"),
        from_name="Shop", from_email="news@shop.test",
    )  # fmt: skip
    subscription = services.subscription_subscribe_member(
        customer=CustomerFactory(), magazine=magazine
    )
    with CaptureQueriesContext(connection) as queries:
        assert services.subscription_unsubscribe(subscription=subscription)
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    on_subscriptions = [sql for sql in locking if 'FROM "marketing_subscription"' in sql]
    assert on_subscriptions, "the subscription is locked"
    for sql in on_subscriptions:
        assert re.search(r'FOR UPDATE OF "marketing_subscription"$', sql), sql
