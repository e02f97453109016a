import pytest

from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["minute", "hour", "day_of_week"])
def test_a_crontab_schedule_with_a_negative_number_is_a_form_error(client, field):
    """The refused form was shown again with a description of the refused schedule, parsed
    by celery, whose ParseException was a 500."""
    from django_celery_beat.models import CrontabSchedule

    client.force_login(make_staff(superuser=True))
    before = CrontabSchedule.objects.count()
    data = {"minute": "0", "hour": "4", "day_of_week": "*", "day_of_month": "*",
            "month_of_year": "*", "timezone": "Asia/Tokyo", field: "-1"}  # fmt: skip
    response = client.post("/admin/django_celery_beat/crontabschedule/add/", data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert CrontabSchedule.objects.count() == before
