"""Small security helpers shared by every app."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress

from django.conf import settings
from python_ipware import IpWare


def keyed_hash(value: str, *, purpose: str) -> str:
    """A short keyed hash: lets log lines and cache keys be correlated without holding the
    value (an e-mail, an IP address)."""
    key = f"{purpose}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """What django-axes writes to the log for a login attempt: never the e-mail or the IP."""
    client = keyed_hash(f"{username or ''}|{ip_address or ''}", purpose="axes-log")
    return f"client={client} path={path_info}"


@functools.cache
def proxy_chain_reader(trusted_proxies: tuple[str, ...]) -> IpWare:
    # One trusted entry per hop, outermost first; python-ipware checks them against the end
    # of the chain in that order and raises on an entry that is no IP, network or prefix.
    return IpWare(
        precedence=("HTTP_X_FORWARDED_FOR",), proxy_list=list(trusted_proxies), algorithm="modern"
    )


def client_ip(request) -> str | None:
    """The address of the client, the one place that decides it (rate limits, login lockout,
    the staff access log, consent evidence).

    Without ``TRUSTED_PROXIES`` it is ``REMOTE_ADDR``: any ``X-Forwarded-For`` is the client's
    own word and ignored. With it, the chain is the header followed by ``REMOTE_ADDR``; its
    last hops must be the trusted proxies (in order), and the hop before them is the client.
    A request that did not come through them (the app reached directly, a forged header that
    does not end in our proxies) falls back to ``REMOTE_ADDR``. gunicorn's
    ``--forwarded-allow-ips`` does not change ``REMOTE_ADDR``, hence this helper."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR"))
    trusted = tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ())
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not trusted or remote is None or not isinstance(forwarded, str) or not forwarded.strip():
        return remote
    chain = {"HTTP_X_FORWARDED_FOR": f"{forwarded}, {remote}"}
    ip, through_proxies = proxy_chain_reader(trusted).get_client_ip(chain, strict=False)
    if ip is None or not through_proxies:
        return remote
    return str(ip)


# The column that keeps it as consent evidence holds 500 characters; a longer header is cut,
# not refused (it is the browser's word, not the member's).
USER_AGENT_MAX_LENGTH = 500


def user_agent(request) -> str:
    """The browser's User-Agent header as consent evidence, cut to what the ledger keeps."""
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]


def _valid_ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None
