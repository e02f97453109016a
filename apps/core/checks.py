"""Startup checks of settings read from the environment, so a typo stops `manage.py check`
(and `migrate`, `runserver`) instead of answering 500 on the first request that reads them."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from apps.core.admin_extensions import admin_extensions_check
from apps.core.ratelimit import parse_rate
from apps.core.security import proxy_chain_reader


@register(Tags.security)
def check_trusted_proxies_and_rate_limits(app_configs, **kwargs):
    errors = []
    try:
        proxy_chain_reader(tuple(settings.TRUSTED_PROXIES))
    except (TypeError, ValueError) as exc:
        errors.append(
            Error(
                f"TRUSTED_PROXIES: {exc}",
                hint="One entry per proxy hop, outermost first: an IP, a CIDR network or a prefix.",
                id="core.E001",
            )
        )
    for scope, rate in settings.RATE_LIMITS.items():
        try:
            parse_rate(rate)
        except ValueError as exc:
            errors.append(Error(f"RATE_LIMITS[{scope!r}]: {exc}", id="core.E002"))
    return errors


# An inline or action an upper app added to an admin that does not read them would do nothing.
register(Tags.admin)(admin_extensions_check)
