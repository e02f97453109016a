"""Fixes to the admin of libraries whose models the shop's admin lists."""

from celery.schedules import ParseException
from django.contrib import admin
from django_celery_beat.admin import CrontabScheduleAdmin
from django_celery_beat.models import CrontabSchedule


class ShopCrontabScheduleAdmin(CrontabScheduleAdmin):
    """django-celery-beat's, but a form shown again with a schedule it refused (e.g. a
    negative minute) does not describe that schedule: the description parses the refused
    values with celery's parser, whose ParseException was a 500."""

    def human_readable(self, obj):
        try:
            return obj.human_readable
        except ParseException:
            return "—"


# django_celery_beat comes before this app in INSTALLED_APPS, so its admin is registered by now.
admin.site.unregister(CrontabSchedule)
admin.site.register(CrontabSchedule, ShopCrontabScheduleAdmin)
