"""The admin's 403 page (``handler403`` in config/urls.py).

A staff member refused inside the admin gets a page in the admin's look and their language,
saying what they may not do (read from the URL they asked for: a list, an addition, a record,
a deletion of which model) and where to go back. Everyone else gets Django's own 403, as
before; anonymous visitors never get this far in the admin, which sends them to its login.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults


def permission_denied(request, exception=None):
    if not _in_admin(request):
        return defaults.permission_denied(request, exception)
    back = request.headers.get("referer", "")
    if back and not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    context = {
        **admin.site.each_context(request),
        "title": _("You may not do this"),
        "refused": refused_action(request),
        "reason": _reason(exception),
        "back": back if back != request.build_absolute_uri() else "",
    }
    response = TemplateResponse(request, "admin/403.html", context, status=403)
    return response.render()


def _in_admin(request) -> bool:
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_active
        and user.is_staff
        and request.path.startswith(reverse("admin:index"))
    )


def _reason(exception) -> str:
    """The refusal's own words, where the code gave any (translated where it raised them)."""
    if exception is None or not exception.args:
        return ""
    return str(exception.args[0])


def refused_action(request) -> str:
    """What the refused URL would have done, in words: 'see the list of privacy requests'."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return _("open this page")
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is None:
        return _("open this page")
    meta = model_admin.model._meta
    name, plural = meta.verbose_name, meta.verbose_name_plural
    view = (match.url_name or "").rsplit("_", 1)[-1]
    if view == "changelist":
        return _("see the list of %(models)s") % {"models": plural}
    if view == "add":
        return _("add %(models)s") % {"models": plural}
    if view == "change":
        return _("open this %(model)s") % {"model": name}
    if view == "delete":
        return _("delete this %(model)s") % {"model": name}
    if view == "history":
        return _("see the history of this %(model)s") % {"model": name}
    return _("use this page of %(models)s") % {"models": plural}
