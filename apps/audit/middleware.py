"""Staff sessions end on their own: after ``STAFF_SESSION_IDLE_TIMEOUT`` without a request and
``STAFF_SESSION_MAX_AGE`` after they began, however busy. A staff session reaches every
customer's data, so a forgotten admin tab must not stay open for the cookie's two weeks.
Member sessions are left as they are."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

STARTED = "staff_session_started"
SEEN = "staff_session_seen"
# The last-seen stamp is rewritten at most this often: saving the session on every admin
# request would be a database write each; the idle limit is then exact to within this.
TOUCH_EVERY = datetime.timedelta(minutes=1)


def staff_session_expired(session, *, now: datetime.datetime) -> bool:
    """Stamp a staff session (the first request after login starts it) and say whether it
    has run past its idle or absolute limit."""
    stamp = int(now.timestamp())
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, int) or not isinstance(seen, int):
        session[STARTED] = session[SEEN] = stamp
        return False
    if stamp - seen > settings.STAFF_SESSION_IDLE_TIMEOUT.total_seconds():
        return True
    if stamp - started > settings.STAFF_SESSION_MAX_AGE.total_seconds():
        return True
    if stamp - seen >= TOUCH_EVERY.total_seconds():
        session[SEEN] = stamp
    return False


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        is_staff = user is not None and user.is_authenticated and user.is_staff
        if is_staff and staff_session_expired(request.session, now=timezone.now()):
            logout(request)
            messages.warning(request, _("Your session has expired. Please log in again."))
            # The path only: an admin query string can hold what was searched for.
            return redirect_to_login(request.path, reverse("admin:login"))
        return self.get_response(request)
