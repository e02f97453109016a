"""Which script URLs an external tag may load.

A tag is a script URL, not HTML: our template places it as `<script src=… async>` with the
response's CSP nonce, so staff choose what loads but never write markup into member pages
(a raw snippet could carry any element: forms, iframes, links, images that CSP lets through).
The URL must be https, on a host the operator listed in EXTERNAL_TAG_ALLOWED_HOSTS (exact host
names, from the environment), with no user name, password or other port. The check runs when
staff save a tag and again each time a page renders, so taking a host off the list stops its
tags at once.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?", re.ASCII)
# Must be percent-encoded in a URL; never allowed raw near markup.
_UNSAFE_CHARACTERS = re.compile(r"[\s\"'<>\\`{}|^\x00-\x1f\x7f]")


def allowed_hosts() -> frozenset[str]:
    return frozenset(h.strip().lower() for h in settings.EXTERNAL_TAG_ALLOWED_HOSTS if h.strip())


def script_url_problem(url: str) -> str | None:
    """Why this URL may not be loaded as a tag, in staff's words; None when it may."""
    if _UNSAFE_CHARACTERS.search(url):
        return _("The URL contains characters that must be percent-encoded (spaces, quotes, <, >).")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a valid URL.")
    if parts.scheme.lower() != "https":
        return _("The script must be loaded over https.")
    if parts.username is not None or parts.password is not None:
        return _("The URL must not contain a user name or password.")
    if port not in (None, 443):
        return _("The URL must not name a port.")
    host = (parts.hostname or "").lower()
    if not _HOSTNAME.fullmatch(host) or host not in allowed_hosts():
        listed = ", ".join(sorted(allowed_hosts())) or _("none")
        return _(
            "The host “%(host)s” is not on the allow-list of tag hosts "
            "(EXTERNAL_TAG_ALLOWED_HOSTS: %(listed)s). Ask the operator to add it."
        ) % {"host": host, "listed": listed}
    return None


def validate_script_url(url: str) -> None:
    problem = script_url_problem(url)
    if problem:
        raise ValidationError(problem, code="external_tag_url")


def script_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
