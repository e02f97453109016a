"""An erasure costs the same number of SQL statements however much a person has, and at most 30
(issue 5's target), counted the way `bench_erasure` counts them (transaction control aside)."""

import pytest
from django.db import connection
from django.test import Client

from apps.bench.people import QueryCounter
from apps.consents.models import ConsentState, Purpose, Source
from apps.consents.services import Evidence, consent_grant
from apps.core import roles
from apps.core.events import EVENT_TYPES
from apps.core.privacy import personal_data_erase
from apps.customers.models import Session
from apps.customers.services import inquiry_create
from apps.integration.outbound.models import DownstreamSystem, WebhookDelivery
from apps.integration.outbound.services import webhook_endpoint_create
from apps.marketing.services import subscription_subscribe_member
from apps.orders.services import LineItem, PaymentInput, order_place
from apps.privacy_requests.models import Kind, Status
from apps.privacy_requests.services import (
    privacy_request_approve,
    privacy_request_carry_out,
    privacy_request_create_from_mypage,
    privacy_request_execute,
)
from tests.factories import AddressFactory, CustomerFactory, ProductFactory
from tests.marketing.helpers import magazine
from tests.privacy_requests.conftest import staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def person_with(n: int, magazines):
    """A member with n of everything: addresses, orders, inquiries, signed-in sessions,
    subscriptions, and a consent (with IP address and browser) for every purpose."""
    customer = CustomerFactory()
    product = ProductFactory()
    for i in range(n):
        address = AddressFactory(customer=customer, is_default=i == 0)
        order_place(
            customer=customer,
            items=[LineItem(product.pk, 1)],
            ship_to=address,
            payment=PaymentInput(method="card", card_brand="VISA", card_last4="4242"),
        )
        inquiry_create(name="山田 花子", email=customer.email, topic="order", message="質問です")
        Client().force_login(customer.user)
        subscription_subscribe_member(customer=customer, magazine=magazines[i])
    for purpose in Purpose.objects.all():
        consent_grant(
            purpose=purpose,
            source=Source.MYPAGE,
            customer=customer,
            evidence=Evidence(ip_address="192.0.2.10", user_agent="Mozilla/5.0"),
        )
    assert Session.objects.filter(user_id=customer.user_id).count() == n
    return customer


def statements_to_erase(customer) -> int:
    counter = QueryCounter(keep_sql=True)
    with connection.execute_wrapper(counter):
        report = personal_data_erase(customer_id=customer.pk)
    assert report.changed_anything
    # The person is locked before any eraser writes: an order or a consent being added at the
    # same moment waits, then finds them erased.
    first = counter.statements[0][1]
    assert first.startswith("SELECT") and '"customers_customer"' in first
    assert first.rstrip().endswith('FOR UPDATE OF "customers_customer"')
    return counter.total


def test_erasure_statements_do_not_grow_with_what_the_person_has():
    magazines = [magazine(slug=f"m{i}", name=f"マガジン{i}") for i in range(5)]
    bare, rich = person_with(1, magazines), person_with(5, magazines)
    # The first erasure in a database also stores the withdrawal wording (once, for everyone).
    personal_data_erase(customer_id=person_with(1, magazines[1:]).pk)

    one, five = statements_to_erase(bare), statements_to_erase(rich)

    assert one == five
    assert five <= 30


def filed_erasure(customer, officer):
    """An erasure request of the person as bench_scale files it: from My Page (their login is
    the identity check), approved, and set to be carried out (its task is queued, not run)."""
    request = privacy_request_create_from_mypage(
        customer=customer, kind=Kind.ERASURE, language="ja"
    )
    assert request.status == Status.REVIEW
    request = privacy_request_approve(privacy_request=request, by=officer)
    return privacy_request_carry_out(privacy_request=request, by=officer)


def statements_to_carry_out(request) -> QueryCounter:
    counter = QueryCounter(keep_sql=True)
    with connection.execute_wrapper(counter):
        assert privacy_request_execute(privacy_request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.erasure_report["deleted"]
    # The person is locked before anything is written: the first lock taken is theirs, and
    # every write comes after it.
    sql = [statement for _part, statement in counter.statements]
    first_lock = next(i for i, s in enumerate(sql) if " FOR UPDATE" in s)
    assert '"customers_customer"' in sql[first_lock]
    assert sql[first_lock].rstrip().endswith('FOR UPDATE OF "customers_customer"')
    assert all(s.lstrip().startswith("SELECT") for s in sql[:first_lock])
    return counter


def storefront_wanting_every_event():
    """A connected system with a webhook endpoint that wants every event (and holds nobody by
    an id of its own, so the request completes at once, as in bench_scale)."""
    system = DownstreamSystem.objects.create(
        name="Storefront",
        kind=DownstreamSystem.Kind.STOREFRONT,
        reached_by=DownstreamSystem.Reach.WEBHOOK,
        data_categories=["identity", "contact", "consents"],
    )
    webhook_endpoint_create(
        system=system, url="https://storefront.example.jp/hooks", event_types=list(EVENT_TYPES)
    )


@pytest.mark.parametrize("webhooks", [False, True], ids=["no-endpoint", "endpoint"])
def test_erasure_through_the_request_workflow_costs_at_most_30_statements(settings, webhooks):
    settings.PRIVACY_MYPAGE_COUNTS_AS_VERIFIED = True
    if webhooks:
        storefront_wanting_every_event()
    officer = staff(roles.PRIVACY_OFFICER)
    magazines = [magazine(slug=f"m{i}", name=f"マガジン{i}") for i in range(5)]
    bare, rich = person_with(1, magazines), person_with(5, magazines)
    # The first erasure in a database also stores the withdrawal wording (once, for everyone).
    warm = filed_erasure(person_with(1, magazines[1:]), officer)
    assert privacy_request_execute(privacy_request_id=warm.pk)
    bare_request, rich_request = filed_erasure(bare, officer), filed_erasure(rich, officer)
    granted = ConsentState.objects.filter(customer=rich, status=ConsentState.Status.GRANTED)
    purposes = granted.count()
    assert purposes == Purpose.objects.count() > 5
    before = WebhookDelivery.objects.count()

    counts = []
    for request in (bare_request, rich_request):
        # The webhook hub reads the endpoints once per transaction (an on-commit marker): as in
        # a real run, the erasure's transaction starts without the list the test's own outer
        # transaction read while setting up.
        connection.run_on_commit.clear()
        counts.append(statements_to_carry_out(request))
    one, five = counts

    for part, statement in five.statements:  # shown when it fails: statements, no values
        print(part, statement[:160])
    assert one.total == five.total
    assert five.total <= 30, dict(five.by_part)
    sent = WebhookDelivery.objects.filter(customer_id=rich.pk, pk__gt=before)
    if webhooks:
        # Every withdrawal is still announced (one consent.changed per purpose), and the
        # request's completion, in the erasure's transaction.
        assert sent.filter(event_type="consent.changed").count() == purposes
        assert sent.filter(event_type="privacy_request.completed").count() == 1
    else:
        assert not sent.exists()
