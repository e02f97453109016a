"""The privacy-center link: a storefront member reaches My Page's privacy pages without a second
account.

The storefront (signed in to its own site as the member) asks ``POST /api/v1/customers/<its id
for the person>/privacy-link`` and sends the browser to the URL it gets back. The URL holds a
token (the credential, like the e-mail confirmation link; no personal data in it) that works
once, for ``PRIVACY_LINK_TTL_MINUTES`` (default 10). Its landing page marks it used and starts a
privacy-center session (apps/customers/privacy_center.py: the privacy pages only, for
``PRIVACY_CENTER_SESSION_MINUTES``), then redirects to /mypage/privacy/. A used, expired or
tampered token is a 404 and changes nothing.

The token is an HMAC of the row's random nonce under the site's secret, and the row keeps only
its SHA-256: the database alone (a backup, the idempotency table) never holds a working link, and
a repeated API call with the same ``Idempotency-Key`` still gets the same URL (derived again).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import secrets
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from apps.core.ratelimit import rate_limit
from apps.customers.models import Customer
from apps.customers.privacy_center import privacy_center_start
from apps.integration.models import ApiClient, PrivacyLink

logger = logging.getLogger(__name__)

_SALT = "apps.integration.privacy_link"
TOKEN = re.compile(r"[0-9a-f]{64}")


def _token(nonce: str) -> str:
    return salted_hmac(_SALT, nonce, algorithm="sha256").hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def privacy_link_issue(*, client: ApiClient, customer: Customer) -> PrivacyLink:
    """A new one-time link for ``customer`` (a person ``client`` brought; the caller checks)."""
    if customer.status == Customer.Status.ERASED:
        raise ValidationError(_("This person's data was erased: there is nothing to show."))
    nonce = secrets.token_hex(16)
    now = timezone.now()
    link = PrivacyLink.objects.create(
        client=client,
        customer=customer,
        nonce=nonce,
        token_hash=_hash(_token(nonce)),
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.PRIVACY_LINK_TTL_MINUTES),
    )
    logger.info("privacy link issued link_id=%s client_id=%s", link.pk, client.pk)
    return link


def privacy_link_path(*, link: PrivacyLink) -> str:
    """The link's path (with its token): to be given to the client once, never logged."""
    return reverse("privacy_center", kwargs={"token": _token(link.nonce)})


def privacy_link_redeem(*, token: str) -> Customer | None:
    """The person of a link that works, now marked used; None for a used, expired or unknown
    token (and then nothing changes)."""
    if not TOKEN.fullmatch(token or ""):
        return None
    now = timezone.now()
    with transaction.atomic():
        link = (
            PrivacyLink.objects.select_for_update()
            .select_related("customer")
            .filter(token_hash=_hash(token))
            .first()
        )
        if (
            link is None
            or link.used_at is not None
            or link.expires_at <= now
            or link.customer.status == Customer.Status.ERASED
        ):
            return None
        link.used_at = now
        link.save(update_fields=["used_at"])
    logger.info("privacy link used link_id=%s", link.pk)
    return link.customer


# ------------------------------------------------------------------ the landing page


def _path_holds_a_token(view):
    """The path holds the token: keep Django's "Not Found: <path>" warning out of the log."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._has_been_logged = True
        return response

    return wrapper


@_path_holds_a_token
@never_cache
@rate_limit("privacy_link", methods=("GET", "POST"))
def privacy_center(request, token):
    """/privacy-center/<token>/: redeem the link, start the privacy-center session, go to the
    privacy page."""
    customer = privacy_link_redeem(token=token)
    if customer is None:
        return render(request, "integration/privacy_link_invalid.html", status=404)
    privacy_center_start(request, customer=customer)
    return redirect("consents:mypage")


# Included by config/urls.py: the token is the credential, no login needed.
urlpatterns = [path("privacy-center/<text:token>/", privacy_center, name="privacy_center")]
