"""The session engine (SESSION_ENGINE = "apps.customers.sessions"): Django's database sessions,
with each row carrying the id of the login it belongs to (see ``customers.Session``), read by
a query compiled once per process (every signed-in request reads its session)."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.utils import timezone

from apps.core.compiled import CompiledQuery
from apps.customers.backends import BACKEND, LEGACY_BACKEND


def _session_by_key(session_key):
    from apps.customers.models import Session

    return Session.objects.filter(session_key=session_key)


_SESSION = CompiledQuery(_session_by_key, session_key=str)


class SessionStore(DBStore):
    def load(self):
        data = super().load()
        # Signed in before the member backend replaced Django's (the same checks, one query).
        if data.get(BACKEND_SESSION_KEY) == LEGACY_BACKEND:
            data[BACKEND_SESSION_KEY] = BACKEND
        return data

    def _get_session_from_db(self):
        """Django's read (the row by its key, if not expired), compiled once."""
        session = _SESSION.first(session_key=self.session_key) if self.session_key else None
        if session is not None and session.expire_date > timezone.now():
            return session
        self._session_key = None
        return None

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
