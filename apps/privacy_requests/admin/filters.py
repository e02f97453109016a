"""The queue's filters: what is late or soon due, and which letters wait to be posted."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from apps.privacy_requests import selectors
from apps.privacy_requests.admin.perms import DECIDE
from apps.privacy_requests.models import DUE_SOON_DAYS, OPEN_STATUSES, Notice


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("soon", _("Due within %(days)s days") % {"days": DUE_SOON_DAYS}),
            ("open", _("All open")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=selectors.privacy_requests_overdue())
        if self.value() == "soon":
            return queryset.filter(pk__in=selectors.privacy_requests_due_soon())
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset


class LettersFilter(admin.SimpleListFilter):
    title = _("letters")
    parameter_name = "letters"

    def lookups(self, request, model_admin):
        if not request.user.has_perm(DECIDE):
            return []  # only who may print and post them
        return [("to_post", _("Letters to post"))]

    def queryset(self, request, queryset):
        if self.value() == "to_post":
            unsent = Notice.objects.filter(privacy_request=OuterRef("pk"), sent_at=None)
            return queryset.filter(Exists(unsent), requester_email="")
        return queryset
