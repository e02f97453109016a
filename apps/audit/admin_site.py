from django.conf import settings
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _

from apps.audit.admin_mixins import AuditedAdminMixin
from apps.audit.forms import StaffAuthenticationForm, StaffOTPAuthenticationForm
from apps.core.admin_actions import ActionSelectionMixin
from apps.core.charts import chart_svg
from apps.core.dashboard import Columns, dashboard_for
from apps.core.ratelimit import rate_limit


class ShopAdminSite(admin.AdminSite):
    """The admin for shop staff.

    - With ``ADMIN_REQUIRE_2FA`` (always on in production) only staff verified by a confirmed
      TOTP device in this session get in; the login form asks for the token.
    - Every ModelAdmin registered here gets ``AuditedAdminMixin``: for models holding personal
      data it writes the access log and hides personal fields from roles that must not see them.
    - Every ModelAdmin gets ``ActionSelectionMixin``: a junk selection posted to an action is a
      message, not a 500.
    """

    site_header = _("Shop privacy back office")
    site_title = _("Privacy back office")

    @property
    def login_form(self):
        return StaffOTPAuthenticationForm if settings.ADMIN_REQUIRE_2FA else StaffAuthenticationForm

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.ADMIN_REQUIRE_2FA else None

    # The same per-address limit as the members' login, beside django-axes' lockout.
    @method_decorator(rate_limit("login"))
    def login(self, request, extra_context=None):
        return super().login(request, extra_context)

    def index(self, request, extra_context=None):
        """The first page is the dashboard of each role the staff member holds."""
        sections = [
            {
                "role": section.role,
                "label": section.label,
                "panels": [
                    {
                        "key": panel.key,
                        "title": panel.title,
                        "content": content,
                        "charts": [_chart_view(chart) for chart in content.charts],
                    }
                    for panel, content in section.panels
                ],
            }
            for section in dashboard_for(request.user)
        ]
        context = {"title": _("Dashboard"), "dashboard": sections, **(extra_context or {})}
        return super().index(request, context)

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        if not settings.ADMIN_REQUIRE_2FA:
            return True
        is_verified = getattr(request.user, "is_verified", None)
        return bool(is_verified and is_verified())

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        mixins = tuple(
            mixin
            for mixin in (AuditedAdminMixin, ActionSelectionMixin)
            if not issubclass(admin_class, mixin)
        )
        if mixins:
            admin_class = type(
                admin_class.__name__,
                (*mixins, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        return super().register(model_or_iterable, admin_class, **options)


def _chart_view(chart) -> dict:
    if isinstance(chart, Columns):
        empty = not any(any(stack.values) for stack in chart.stacks)
        legend = [stack.label for stack in chart.stacks]
    else:
        values = chart.values if hasattr(chart, "values") else [f.value for f in chart.figures]
        empty = not values
        legend = []
    return {"title": chart.title, "svg": chart_svg(chart), "legend": legend, "empty": empty}
