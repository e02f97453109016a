"""A person's rows are locked in one order (customer, subscriptions, requests: apps/core/locks),
so an unsubscribe or a subscription confirmation running at the same moment as an erasure of
the same person waits for it instead of deadlocking. Before, the unsubscribe and the
confirmation locked the subscription and then the customer, the erasure the other way round,
and PostgreSQL killed one of the two."""

import re
import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.consents.models import ConsentEvent, ConsentState
from apps.core import roles
from apps.core.locks import person_lock
from apps.core.privacy import personal_data_erase
from apps.customers.models import Customer
from apps.marketing import services
from apps.marketing.models import Subscription
from apps.privacy_requests import services as request_services
from tests.factories import make_staff
from tests.marketing.helpers import magazine
from tests.privacy_requests.conftest import make_request, to_review

pytestmark = [pytest.mark.postgres]

ROUNDS = 30


def confirmation_token(mailoutbox) -> str:
    link = next(line for line in mailoutbox[-1].body.splitlines() if "/newsletter/confirm/" in line)
    return link.rstrip("/").rsplit("/", 1)[1]


def pending(mag, email, mailoutbox, capture) -> tuple[Subscription, str]:
    """A visitor's subscription waiting for its link (the double opt-in path), and the link's
    token as mailed."""
    with capture(execute=True):
        subscription = services.subscription_request(email=email, magazine=mag)
    return subscription, confirmation_token(mailoutbox)


def at_once(*calls) -> list[BaseException]:
    """Run the calls in threads (each with its own database connection) released together;
    the exceptions they raised, if any."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            start.wait()
            call()
        except ValidationError:
            pass  # a refusal (e.g. "this link is not valid": the erasure came first) is an answer
        except BaseException as exc:  # a deadlock is what this test looks for
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def summary(failures) -> str:
    kinds = Counter(
        "deadlock" if "deadlock detected" in str(exc) else type(exc).__name__ for exc in failures
    )
    return f"{len(failures)} failures in {ROUNDS} rounds: {dict(kinds)}"


def assert_erased_consistently(customer_id, mag):
    assert Customer.objects.get(pk=customer_id).status == Customer.Status.ERASED
    assert not Subscription.objects.filter(customer_id=customer_id).exists()
    events = ConsentEvent.objects.filter(customer_id=customer_id, purpose=mag.purpose)
    grants = events.filter(action="grant").count()
    assert events.filter(action="withdraw").count() == grants
    state = ConsentState.objects.filter(customer_id=customer_id, purpose=mag.purpose).first()
    assert state is None or state.status == ConsentState.Status.WITHDRAWN


def test_unsubscribe_and_erasure_of_the_same_person_at_once_never_deadlock(
    transactional_db, mailoutbox, django_capture_on_commit_callbacks
):
    mag = magazine()
    failures = []
    for i in range(ROUNDS):
        subscription, token = pending(
            mag, f"reader{i}@example.com", mailoutbox, django_capture_on_commit_callbacks
        )
        services.subscription_confirm(token=token)
        customer_id = subscription.customer_id

        errors = at_once(
            lambda s=subscription: services.subscription_unsubscribe(subscription=s),
            lambda c=customer_id: personal_data_erase(customer_id=c),
        )
        if errors:  # counted (all rounds run, to say how often), checked at the end
            failures += errors
            continue

        assert_erased_consistently(customer_id, mag)
        withdrawals = ConsentEvent.objects.filter(
            customer_id=customer_id, purpose=mag.purpose, action="withdraw"
        )
        assert withdrawals.count() == 1, "one withdrawal, by whichever came first"
    assert failures == [], summary(failures)


def test_confirmation_and_erasure_of_the_same_person_at_once_never_deadlock(
    transactional_db, mailoutbox, django_capture_on_commit_callbacks
):
    mag = magazine()
    failures = []
    for i in range(ROUNDS):
        subscription, token = pending(
            mag, f"reader{i}@example.com", mailoutbox, django_capture_on_commit_callbacks
        )
        customer_id = subscription.customer_id

        errors = at_once(
            lambda t=token: services.subscription_confirm(token=t),
            lambda c=customer_id: personal_data_erase(customer_id=c),
        )
        if errors:
            failures += errors
            continue

        assert_erased_consistently(customer_id, mag)
    assert failures == [], summary(failures)


def locked_tables(call) -> list[str]:
    """The tables whose rows `call` locks, in the order it locks them."""
    with CaptureQueriesContext(connection) as queries:
        call()
    return [
        re.search(r'FROM "(\w+)"', q["sql"]).group(1)
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"]
    ]


def test_person_lock_takes_the_customer_then_subscriptions_then_requests(
    transactional_db, mailoutbox, django_capture_on_commit_callbacks
):
    subscription, _token = pending(
        magazine(), "order@example.com", mailoutbox, django_capture_on_commit_callbacks
    )
    make_request(subscription.customer)

    with transaction.atomic():
        tables = locked_tables(
            lambda: person_lock(
                customer_id=subscription.customer_id, subscriptions=True, requests=True
            )
        )
    assert tables == [
        "customers_customer",
        "marketing_subscription",
        "privacy_requests_privacyrequest",
    ]
    with pytest.raises(RuntimeError):
        person_lock(customer_id=subscription.customer_id)  # outside a transaction


def test_unsubscribe_confirmation_and_carrying_out_a_request_lock_the_customer_first(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    mag = magazine()
    subscription, token = pending(
        mag, "first@example.com", mailoutbox, django_capture_on_commit_callbacks
    )
    assert locked_tables(lambda: services.subscription_confirm(token=token))[:2] == [
        "customers_customer",
        "marketing_subscription",
    ]
    assert locked_tables(lambda: services.subscription_unsubscribe(subscription=subscription))[
        :2
    ] == ["customers_customer", "marketing_subscription"]

    officer = make_staff(roles.PRIVACY_OFFICER)
    erasure = to_review(make_request(subscription.customer), officer)
    request_services.privacy_request_approve(privacy_request=erasure, by=officer)
    request_services.privacy_request_carry_out(privacy_request=erasure, by=officer)  # not run
    tables = locked_tables(
        lambda: request_services.privacy_request_execute(privacy_request_id=erasure.pk)
    )
    # An erasure takes the person's locks once, as the erasers need them: the customer, their
    # subscriptions, then their requests (the one carried out among them).
    assert tables[:3] == [
        "customers_customer",
        "marketing_subscription",
        "privacy_requests_privacyrequest",
    ]
    assert tables.count("customers_customer") == 1
    assert Customer.objects.get(pk=subscription.customer_id).status == Customer.Status.ERASED
