"""Background work (apps/core/durable.py) for staff: what waits, what runs, what was given up
and why, with "try again now". Rows are read-only; the action is the one way to change them.
Also fixes to the admin of libraries whose models the shop's admin lists."""

from celery.schedules import ParseException
from django.contrib import admin
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import CrontabScheduleAdmin
from django_celery_beat.models import CrontabSchedule

from apps.core.admin_actions import ServiceActionsMixin
from apps.core.durable import job_retry
from apps.core.models import Job


class TaskFilter(admin.SimpleListFilter):
    title = _("task")
    parameter_name = "task"

    def lookups(self, request, model_admin):
        names = Job.objects.order_by("task").values_list("task", flat=True).distinct()
        return [(name, name.rsplit(".", 1)[-1]) for name in names]

    def queryset(self, request, queryset):
        return queryset.filter(task=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "task_name",
        "args",
        "state",
        "attempts",
        "age",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("state", TaskFilter)
    ordering = ("-pk",)
    actions = ["try_again"]
    readonly_fields = [
        "task",
        "args",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "updated_at",
        "done_at",
    ]

    @admin.display(description=_("task"), ordering="task")
    def task_name(self, job):
        return job.task.rsplit(".", 1)[-1]

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, job):
        return timesince(job.created_at, timezone.now())

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try again now"), permissions=["change"])
    def try_again(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda job: job_retry(job=job, by=request.user),
            _("Enqueued again"),
            label=lambda job: f"#{job.pk}",
        )


# Fixes to the admin of libraries whose models the shop's admin lists.
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
