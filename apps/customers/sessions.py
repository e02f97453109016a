"""The session engine (SESSION_ENGINE = "apps.customers.sessions"): Django's database sessions,
with each row carrying the id of the login it belongs to (see ``customers.Session``)."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore

from apps.customers.backends import BACKEND, LEGACY_BACKEND


class SessionStore(DBStore):
    def load(self):
        data = super().load()
        # Signed in before the member backend replaced Django's (the same checks, one query).
        if data.get(BACKEND_SESSION_KEY) == LEGACY_BACKEND:
            data[BACKEND_SESSION_KEY] = BACKEND
        return data

    @classmethod
    def get_model_class(cls):
        from apps.customers.models import Session

        return Session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session
