"""Scopes: a view names the scope each method needs (``scopes = {"POST": "orders:write"}``);
a key whose client lacks it gets 403."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from apps.integration.api.authentication import ClientPrincipal


class HasScope(permissions.BasePermission):
    message = _("This API client does not have the scope this call needs.")

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, ClientPrincipal):
            return False
        needed = view.scopes.get(request.method) if hasattr(view, "scopes") else None
        if needed is None:
            return request.method == "OPTIONS"
        if request.user.client.has_scope(needed):
            return True
        self.message = _("This API client needs the scope %(scope)s for this call.") % {
            "scope": needed
        }
        return False
