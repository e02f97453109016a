"""The campaign sweep in Celery beat's schedule (django-celery-beat's DatabaseScheduler), every
minute, so it exists on every installation and staff can see it in the admin: it is what
finishes a campaign whose tasks were lost, never enqueued or deferred (pipeline.campaign_sweep)."""

from django.db import migrations

TASK_NAME = "marketing: sweep sending campaigns"
TASK = "apps.marketing.tasks.campaign_sweep_task"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": TASK, "interval": every_minute, "crontab": None, "enabled": True},
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0002_delivery_retry_fields"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
