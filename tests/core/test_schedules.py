"""Every periodic task is declared in apps/core/schedules.py, and the database holds exactly
what it declares (migrate applies it; so does ``manage.py setup_schedules``)."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.schedules import OBSOLETE, SCHEDULES, schedules_setup

pytestmark = pytest.mark.django_db

# Celery adds this one itself when results expire; it is not ours to declare.
CELERY_OWN = {"celery.backend_cleanup"}


def test_the_database_holds_exactly_the_declared_schedules():
    names = set(PeriodicTask.objects.values_list("name", flat=True)) - CELERY_OWN
    assert names == {schedule.name for schedule in SCHEDULES}
    assert not PeriodicTask.objects.filter(name__in=OBSOLETE).exists()


def test_each_declared_schedule_names_a_real_task_and_is_on():
    from config.celery_app import app

    app.loader.import_default_modules()
    for schedule in SCHEDULES:
        task = PeriodicTask.objects.get(name=schedule.name)
        assert task.task == schedule.task and task.task in app.tasks, schedule.name
        assert task.enabled
        if schedule.every:
            assert (task.interval.every, task.interval.period) == schedule.every
        else:
            assert (task.crontab.minute, task.crontab.hour) == schedule.at
            assert str(task.crontab.timezone) == "Asia/Tokyo"


def test_settings_declare_no_second_schedule():
    assert not getattr(settings, "CELERY_BEAT_SCHEDULE", None)


def test_setup_is_idempotent_and_repairs_what_drifted():
    assert schedules_setup() == {"created": 0, "updated": 0, "removed": 0}
    sweep = PeriodicTask.objects.get(name="core: sweep due work")
    sweep.interval, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    sweep.save()
    PeriodicTask.objects.get(name="retention: daily run").delete()
    PeriodicTask.objects.create(
        name=OBSOLETE[0], task="apps.privacy_requests.tasks.gone", interval=sweep.interval
    )
    count = PeriodicTask.objects.count()

    assert schedules_setup() == {"created": 1, "updated": 1, "removed": 1}
    assert PeriodicTask.objects.count() == count  # one back, one gone: no duplicates
    sweep.refresh_from_db()
    assert (sweep.interval.every, sweep.interval.period) == (1, "minutes")
    assert schedules_setup() == {"created": 0, "updated": 0, "removed": 0}


def test_a_schedule_staff_paused_stays_paused():
    PeriodicTask.objects.filter(name="marketing: sweep sending campaigns").update(enabled=False)
    schedules_setup()
    assert not PeriodicTask.objects.get(name="marketing: sweep sending campaigns").enabled


def test_the_command_reports_what_it_did():
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    assert out.getvalue().strip() == "created=0 updated=0 removed=0"
