"""Staff decisions that change what happens to people (a customer restricted or let order again,
a campaign sent, scheduled, cancelled or resumed) leave a durable row, written by the service in
the change's own transaction: ids only, never changed or deleted."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.core import roles
from apps.core.models import AppendOnlyError, StaffAction
from apps.core.services import staff_action_record
from apps.customers.models import Customer
from apps.customers.services import customer_lift_restriction, customer_restrict
from apps.marketing import services as marketing
from apps.marketing.models import Campaign
from tests.factories import CustomerFactory, make_staff
from tests.marketing.helpers import campaign, magazine

pytestmark = pytest.mark.django_db

REASON = "転売 山田太郎 yamada@example.com"


def recorded():
    return list(
        StaffAction.objects.order_by("pk").values_list(
            "action", "model_label", "object_id", "staff_user_id"
        )
    )


def test_restricting_and_lifting_a_customer_are_recorded_with_ids_only():
    staff = make_staff(roles.SUPPORT)
    customer = CustomerFactory()
    customer_restrict(customer=customer, reason=REASON, by=staff)
    customer_lift_restriction(customer=customer, by=staff)
    assert recorded() == [
        ("customer_restrict", "customers.Customer", str(customer.pk), staff.pk),
        ("customer_lift_restriction", "customers.Customer", str(customer.pk), staff.pk),
    ]
    stored = " ".join(str(value) for row in recorded() for value in row)
    assert "山田" not in stored and "example.com" not in stored


def test_a_refused_restriction_records_nothing():
    erased = CustomerFactory(status=Customer.Status.ERASED)
    with pytest.raises(ValidationError):
        customer_restrict(customer=erased, reason=REASON)
    with pytest.raises(ValidationError):
        customer_lift_restriction(customer=CustomerFactory())
    assert recorded() == []


def test_the_record_and_the_change_stand_or_fall_together():
    customer = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_restrict(customer=customer, reason=REASON)
        raise RuntimeError("the caller's transaction fails after the service")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE and recorded() == []


def test_campaign_schedule_send_resume_and_cancel_are_recorded(django_capture_on_commit_callbacks):
    staff = make_staff(roles.MARKETING)
    c = campaign(magazine())
    label, pk = "marketing.Campaign", str(c.pk)
    # The fan-out and the drive run on commit; not running them keeps this about the records.
    with django_capture_on_commit_callbacks(execute=False):
        marketing.campaign_schedule(campaign=c, at=timezone.now() + timedelta(hours=1), by=staff)
        marketing.campaign_send_now(campaign=c, by=staff)
        marketing.campaign_resume(campaign=c, by=staff)
        marketing.campaign_cancel(campaign=c, by=staff)
    assert recorded() == [
        ("campaign_schedule", label, pk, staff.pk),
        ("campaign_send", label, pk, staff.pk),
        ("campaign_resume", label, pk, staff.pk),
        ("campaign_cancel", label, pk, staff.pk),
    ]


def test_beat_sending_a_scheduled_campaign_is_recorded_without_a_staff_member(
    django_capture_on_commit_callbacks,
):
    c = campaign(magazine())
    marketing.campaign_schedule(campaign=c, at=timezone.now() + timedelta(seconds=1))
    Campaign.objects.filter(pk=c.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=False):
        assert marketing.campaign_dispatch_due() == 1
    assert recorded()[-1] == ("campaign_send", "marketing.Campaign", str(c.pk), None)


def test_a_refused_campaign_action_records_nothing():
    c = campaign(magazine())
    for refused in (marketing.campaign_cancel, marketing.campaign_resume):
        with pytest.raises(ValidationError):
            refused(campaign=c)
    assert recorded() == []


def test_rows_cannot_be_changed_or_deleted_through_the_model():
    row = staff_action_record(action="campaign_send", obj=campaign(magazine()), by_user_id=1)
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        StaffAction.objects.update(staff_user_id=2)
    with pytest.raises(AppendOnlyError):
        StaffAction.objects.all().delete()
    with pytest.raises(ValueError):
        staff_action_record(action="made_up", obj=row)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql", ["UPDATE core_staffaction SET staff_user_id = 2", "DELETE FROM core_staffaction"]
)
def test_postgresql_trigger_rejects_update_and_delete(sql):
    staff_action_record(action="campaign_send", obj=campaign(magazine()), by_user_id=1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert StaffAction.objects.get().staff_user_id == 1


def test_the_privacy_officer_reads_them_in_the_admin_and_nobody_edits_them(client):
    customer = CustomerFactory()
    customer_restrict(customer=customer, reason=REASON)
    row = StaffAction.objects.get()
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    page = client.get(reverse("admin:core_staffaction_changelist"))
    assert page.status_code == 200 and "customers.Customer" in page.content.decode()
    client.post(reverse("admin:core_staffaction_change", args=[row.pk]), {"object_id": "9"})
    row.refresh_from_db()
    assert row.object_id == str(customer.pk)
    client.force_login(make_staff(roles.MARKETING))
    assert client.get(reverse("admin:core_staffaction_changelist")).status_code == 403
