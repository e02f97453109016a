"""The authentication backend: Django's ModelBackend, loading a login with its member profile.

Every signed-in page reads the login (the session names it) and, on My Page and for the cookie
banner, the member profile: one query with a join instead of two, its SQL compiled once per
process (apps/core/compiled.py). Staff logins have no profile; the join then finds none and
costs nothing more."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from apps.core.compiled import CompiledQuery

# Sessions signed in before this backend existed name Django's; the session store reads them
# as this one (apps/customers/sessions.py), so nobody is logged out by the upgrade.
LEGACY_BACKEND = "django.contrib.auth.backends.ModelBackend"
BACKEND = "apps.customers.backends.MemberBackend"


_LOGIN_WITH_PROFILE = CompiledQuery(
    lambda pk: get_user_model()._default_manager.select_related("customer").filter(pk=pk),
    pk=int,
)


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        # The session keeps the id as text; Django's get_user hands it over converted.
        user = _LOGIN_WITH_PROFILE.first(pk=get_user_model()._meta.pk.to_python(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None
