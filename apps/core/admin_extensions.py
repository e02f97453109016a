"""How an upper app adds to a lower app's admin: the lower admin reads what was added here.

Lower apps know nothing of the apps above them (customers knows neither orders nor
privacy_requests), yet the customer page lists orders and the inquiry list can turn an inquiry
into a privacy request. The upper app's admin module says so once::

    admin_extension_add(model=Customer, inlines=[CustomerOrderInline])

and the lower app's ModelAdmin inherits ``ExtensibleAdminMixin``, which reads the additions on
each request (so the order of the apps' admin modules does not matter). No app assigns to
another app's ModelAdmin class: that change would be invisible where the class is written.
Checks (core.E010-E012) stop an addition no admin reads, which would do nothing, and do for\nadded inlines and actions what Django's checks do for an admin's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.checks import Error


@dataclass
class AdminExtension:
    inlines: list = field(default_factory=list)
    actions: list = field(default_factory=list)


_EXTENSIONS: dict[type, AdminExtension] = {}


def admin_extension_add(*, model: type, inlines=(), actions=()) -> None:
    """Add inline classes and action functions to `model`'s admin; adding one twice adds it once."""
    extension = _EXTENSIONS.setdefault(model, AdminExtension())
    extension.inlines += [inline for inline in inlines if inline not in extension.inlines]
    extension.actions += [action for action in actions if action not in extension.actions]


def admin_extension_for(model: type) -> AdminExtension:
    return _EXTENSIONS.get(model) or AdminExtension()


class ExtensibleAdminMixin:
    """For a lower app's ModelAdmin: the inlines and actions upper apps added to it."""

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *admin_extension_for(self.model).inlines]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions  # no actions on this admin, or in a popup (as Django's own)
        for function in admin_extension_for(self.model).actions:
            function, name, description = self.get_action(function)
            # As Django does for its own actions: each listed permission is needed.
            permissions = getattr(function, "allowed_permissions", ())
            if all(getattr(self, f"has_{p}_permission")(request) for p in permissions):
                actions[name] = (function, name, description)
        return actions


def admin_extensions_check(app_configs, **kwargs) -> list[Error]:
    """What Django checks of an admin's own inlines and actions, for the ones added to it: an
    addition no admin reads (it would do nothing), an inline that does not fit the model, an
    action that would replace one of the admin's own or asks for a permission it cannot check."""
    errors = []
    for model, extension in _EXTENSIONS.items():
        try:
            model_admin = admin.site.get_model_admin(model)
        except NotRegistered:
            model_admin = None
        if not isinstance(model_admin, ExtensibleAdminMixin):
            errors.append(
                Error(
                    f"Admin extensions were added for {model._meta.label}, but its admin does "
                    "not read them.",
                    hint="Register its ModelAdmin with apps.core.admin_extensions."
                    "ExtensibleAdminMixin, or add nothing to it.",
                    id="core.E010",
                )
            )
            continue
        for inline in extension.inlines:
            errors += inline(model, model_admin.admin_site).check()
        own = {name for name, _function in model_admin.admin_site.actions}
        own |= {a if isinstance(a, str) else a.__name__ for a in model_admin.actions or ()}
        for function in extension.actions:
            name = function.__name__
            if name in own:
                errors.append(
                    Error(
                        f"The action {name!r} added to {model._meta.label}'s admin has the name "
                        "of one of its own actions.",
                        id="core.E011",
                    )
                )
            for permission in getattr(function, "allowed_permissions", ()):
                if not hasattr(model_admin, f"has_{permission}_permission"):
                    errors.append(
                        Error(
                            f"The action {name!r} added to {model._meta.label}'s admin needs "
                            f"the {permission!r} permission, which that admin cannot check "
                            f"(it has no has_{permission}_permission()).",
                            id="core.E012",
                        )
                    )
    return errors
