"""The authentication backend: Django's ModelBackend, loading a login with its member profile.

Every signed-in page reads the login (the session names it) and, on My Page and for the cookie
banner, the member profile: one query with a join instead of two. Staff logins have no profile;
the join then finds none and costs nothing more."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# Sessions signed in before this backend existed name Django's; the session store reads them
# as this one (apps/customers/sessions.py), so nobody is logged out by the upgrade.
LEGACY_BACKEND = "django.contrib.auth.backends.ModelBackend"
BACKEND = "apps.customers.backends.MemberBackend"


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("customer").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
