"""The privacy-center session: My Page's privacy pages for a person who has no login here.

A storefront member's account lives on the storefront; the storefront asks the API for a
one-time link (apps/integration/privacy_link.py), whose landing page starts this session. The
session holds the customer's id and when it ends, and nothing else: ``request.user`` stays
anonymous, so every page outside ``PAGES`` (profile, e-mail, addresses, orders, My Page's
overview, the admin) answers as if logged out, and nothing that needs a login (a password change,
an e-mail change, filing or withdrawing a request as a logged-in member) can be reached with it.
``member_required`` reads it on the pages listed here only.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from apps.customers.models import Customer

SESSION_KEY = "privacy_center"

# URL names (namespace:name) the session opens: the consents and subscriptions of
# /mypage/privacy/, and following one's requests (the list, a request, its disclosure download).
PAGES = frozenset(
    {
        "consents:mypage",
        "consents:reconfirm",
        "marketing:mypage_subscription",
        "privacy_requests:list",
        "privacy_requests:detail",
        "privacy_requests:download",
    }
)


def privacy_center_start(request, *, customer: Customer) -> None:
    """A fresh session for ``customer``: whoever was logged in on this browser is logged out
    first (a shared computer must not mix two people)."""
    # Not auth.logout(): its signal's receivers (django-axes) log the request's path, which
    # holds the link's token. Flushing the session ends any login all the same (a new key).
    request.session.flush()
    request.user = AnonymousUser()
    ends = timezone.now() + datetime.timedelta(minutes=settings.PRIVACY_CENTER_SESSION_MINUTES)
    request.session[SESSION_KEY] = {"customer_id": customer.pk, "ends": ends.timestamp()}
    request.session.set_expiry(settings.PRIVACY_CENTER_SESSION_MINUTES * 60)


def privacy_center_customer(request) -> Customer | None:
    """The person of this browser's privacy-center session, on a privacy page, while the session
    lasts and the person is not erased; else None."""
    match = getattr(request, "resolver_match", None)
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if match is None or match.view_name not in PAGES or not isinstance(data, dict):
        return None
    try:
        customer_id, ends = int(data["customer_id"]), float(data["ends"])
    except (KeyError, TypeError, ValueError):
        return None
    if ends <= timezone.now().timestamp():
        return None
    return Customer.objects.exclude(status=Customer.Status.ERASED).filter(pk=customer_id).first()
