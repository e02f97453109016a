"""The retention schedule: each rule on data just inside and just outside its limit, the dry
run, the command, the daily beat entry."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core import retention
from apps.core.services import retention_run
from apps.customers.models import Customer, Inquiry, Session
from apps.orders.models import Order, OrderLine, Payment
from apps.orders.services import LineItem, PaymentInput, order_place
from tests.factories import AddressFactory, CustomerFactory, GuestFactory, ProductFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2030, 6, 15)
CUTOFF = datetime.date(2027, 6, 15)  # three years before TODAY


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def guest(*, created: datetime.date, last_order: datetime.date | None = None, **fields):
    customer = GuestFactory(**fields)
    Customer.objects.filter(pk=customer.pk).update(created_at=at(created))
    if last_order:
        address = AddressFactory(customer=customer)
        order = order_place(
            customer=customer,
            items=[LineItem(ProductFactory().pk, 1)],
            ship_to=address,
            payment=PaymentInput(method="bank_transfer"),
        )
        Order.objects.filter(pk=order.pk).update(placed_at=at(last_order))
    customer.refresh_from_db()
    return customer


def test_every_rule_is_registered():
    assert [rule.name for rule in retention.rules()] == [
        "inactive_guests",
        "expired_tax_holds",
        "marketing_consent_records",
        "provision_records",
        "expired_sessions",
        "privacy_request_files",
        "privacy_request_records",
        "api_idempotency",
        "webhook_given_up_bodies",
        "privacy_links",
        "shopify_webhook_ids",
        "external_consent_orphans",
        "finished_jobs",
    ]


def test_guest_whose_last_order_is_just_past_the_limit_is_anonymised():
    gone = guest(created=datetime.date(2025, 1, 1), last_order=CUTOFF - datetime.timedelta(1))
    counts = retention_run(today=TODAY)
    assert counts["inactive_guests"] == 1
    gone.refresh_from_db()
    assert gone.status == Customer.Status.ERASED
    assert gone.family_name == "" and gone.email == ""
    order = Order.objects.get(customer=gone)
    assert order.use_suspended and order.ship_name == ""  # the tax record stays, anonymised


def test_guest_with_an_order_just_inside_the_limit_is_kept():
    kept = guest(created=datetime.date(2025, 1, 1), last_order=CUTOFF)
    assert retention_run(today=TODAY)["inactive_guests"] == 0
    kept.refresh_from_db()
    assert kept.status == Customer.Status.ACTIVE and kept.family_name


def test_guest_without_orders_counts_from_creation():
    old = guest(created=CUTOFF - datetime.timedelta(1))
    new = guest(created=CUTOFF)
    retention_run(today=TODAY)
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == Customer.Status.ERASED
    assert new.status == Customer.Status.ACTIVE


def test_a_recent_inquiry_keeps_a_guest():
    customer = guest(created=datetime.date(2020, 1, 1))
    inquiry = Inquiry.objects.create(
        customer=customer, name="n", email=customer.email, topic="order", message="m"
    )
    Inquiry.objects.filter(pk=inquiry.pk).update(created_at=at(CUTOFF))
    assert retention_run(today=TODAY)["inactive_guests"] == 0


def test_members_and_restricted_guests_are_not_touched():
    member = CustomerFactory()
    Customer.objects.filter(pk=member.pk).update(created_at=at(datetime.date(2020, 1, 1)))
    restricted = guest(created=datetime.date(2020, 1, 1))
    Customer.objects.filter(pk=restricted.pk).update(
        status=Customer.Status.RESTRICTED, restriction_reason="resale"
    )
    assert retention_run(today=TODAY)["inactive_guests"] == 0
    member.refresh_from_db()
    assert member.status == Customer.Status.ACTIVE


def test_the_limit_is_a_setting(settings):
    settings.RETENTION_GUEST_INACTIVE_YEARS = 5
    customer = guest(created=datetime.date(2026, 1, 1))
    assert retention_run(today=TODAY)["inactive_guests"] == 0
    settings.RETENTION_GUEST_INACTIVE_YEARS = 3
    assert retention_run(today=TODAY)["inactive_guests"] == 1
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED


def held_order(hold_until: datetime.date) -> Order:
    customer = guest(created=datetime.date(2029, 1, 1), last_order=datetime.date(2029, 1, 2))
    order = Order.objects.get(customer=customer)
    Order.objects.filter(pk=order.pk).update(
        use_suspended=True, hold_until=hold_until, ship_name="", ship_address="", ship_phone=""
    )
    return order


def test_an_expired_tax_hold_is_released_by_deleting_the_order():
    expired = held_order(TODAY - datetime.timedelta(1))
    assert retention_run(today=TODAY)["expired_tax_holds"] == 1
    assert not Order.objects.filter(pk=expired.pk).exists()
    assert not OrderLine.objects.filter(order_id=expired.pk).exists()
    assert not Payment.objects.filter(order_id=expired.pk).exists()


def test_a_hold_ending_today_is_kept_until_tomorrow():
    held = held_order(TODAY)
    assert retention_run(today=TODAY)["expired_tax_holds"] == 0
    assert Order.objects.filter(pk=held.pk).exists()


def test_orders_not_under_a_hold_are_never_released():
    customer = guest(created=datetime.date(2029, 1, 1), last_order=datetime.date(2029, 1, 2))
    Order.objects.filter(customer=customer).update(hold_until=datetime.date(2000, 1, 1))
    assert retention_run(today=TODAY)["expired_tax_holds"] == 0


def test_dry_run_counts_and_changes_nothing():
    gone = guest(created=datetime.date(2020, 1, 1))
    expired = held_order(TODAY - datetime.timedelta(1))
    before = (
        list(Customer.objects.order_by("pk").values()),
        list(Order.objects.order_by("pk").values()),
    )
    out = io.StringIO()
    call_command("retention_run", "--dry-run", f"--today={TODAY}", stdout=out)
    assert "inactive_guests: would apply to 1" in out.getvalue()
    assert "expired_tax_holds: would apply to 1" in out.getvalue()
    after = (
        list(Customer.objects.order_by("pk").values()),
        list(Order.objects.order_by("pk").values()),
    )
    assert before == after
    gone.refresh_from_db()
    assert gone.status == Customer.Status.ACTIVE and Order.objects.filter(pk=expired.pk).exists()


def test_a_second_run_finds_nothing_left(caplog):
    guest(created=datetime.date(2020, 1, 1), email="left.alone@example.com")
    held_order(TODAY - datetime.timedelta(1))
    with caplog.at_level("INFO"):
        first = retention_run(today=TODAY)
    assert first == {"inactive_guests": 1, "expired_tax_holds": 1,
                     "marketing_consent_records": 0, "provision_records": 0,
                     "expired_sessions": 0, "privacy_request_files": 0,
                     "privacy_request_records": 0, "api_idempotency": 0,
                     "webhook_given_up_bodies": 0, "privacy_links": 0,
                     "shopify_webhook_ids": 0, "external_consent_orphans": 0,
                     "finished_jobs": 0}  # fmt: skip
    assert set(retention_run(today=TODAY).values()) == {0}
    # The log says what was done with counts and ids, never personal data.
    assert "retention rule=inactive_guests dry_run=False today=2030-06-15 count=1" in caplog.text
    assert "left.alone" not in caplog.text and "山田" not in caplog.text


def test_the_daily_beat_entry_exists_and_names_a_real_task():
    from django_celery_beat.models import PeriodicTask

    from config.celery_app import app

    task = PeriodicTask.objects.get(name="retention: daily run")
    assert task.enabled and task.crontab.hour == "3" and str(task.crontab.timezone) == "Asia/Tokyo"
    app.loader.import_default_modules()
    assert task.task in app.tasks


def test_the_task_runs_the_schedule():
    from apps.core.tasks import retention_run_task

    customer = guest(created=datetime.date(2000, 1, 1))
    retention_run_task.delay()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED


def test_sessions_go_the_day_after_they_expired():
    from django.test import Client

    for expires in (at(TODAY - datetime.timedelta(1), 23), at(TODAY, 0)):
        client = Client()
        client.force_login(CustomerFactory().user)
        Session.objects.filter(pk=client.session.session_key).update(expire_date=expires)
    assert retention_run(today=TODAY, dry_run=True)["expired_sessions"] == 1
    assert Session.objects.count() == 2
    assert retention_run(today=TODAY)["expired_sessions"] == 1
    assert [s.expire_date for s in Session.objects.all()] == [at(TODAY, 0)]


def test_done_jobs_go_after_the_keeping_period_and_given_up_ones_stay(settings):
    from apps.core.models import Job

    settings.JOB_DONE_KEEP_DAYS = 30
    limit = timezone.make_aware(
        datetime.datetime.combine(TODAY - datetime.timedelta(days=30), datetime.time(0, 1))
    )

    def job(state, done_at):
        return Job.objects.create(
            task="apps.core.tasks.example", args=[1], state=state, next_attempt_at=done_at,
            done_at=done_at,
        )  # fmt: skip

    kept = job(Job.State.DONE, limit)
    gone = job(Job.State.DONE, limit - datetime.timedelta(days=1))
    given_up = job(Job.State.FAILED, limit - datetime.timedelta(days=400))
    assert retention_run(today=TODAY)["finished_jobs"] == 1
    assert set(Job.objects.values_list("pk", flat=True)) == {kept.pk, given_up.pk}
    assert gone.pk not in set(Job.objects.values_list("pk", flat=True))
