"""/privacy/ is the same for everyone who reads it in a language, yet it took three queries and
most of a page render per visitor. Its body is rendered once per language and served from the
cache; the cookie banner and CSRF token around it stay per visitor (base.html, outside the
fragment).

The fragment's key holds a generation that any saved or deleted policy version or purpose
replaces, and a digest of the shop's published settings: a change shows at once, in every
process sharing the cache. The generation is replaced both at the save (the same transaction
reads its own change) and after the commit (a visitor who rendered the old rows between the two
does not keep them cached). The consent middleware uses the same generation to ask the database
for consents pending re-confirmation once per session and policy publish, not per request."""

from __future__ import annotations

import hashlib
import logging
import uuid

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "consents:privacy-notice:generation"
logger = logging.getLogger(__name__)


def notice_generation() -> str | None:
    """None when the cache is unreachable: the page is then rendered, not cached (a public
    page the law requires must not fail because the cache did)."""
    try:
        return cache.get_or_set(GENERATION_KEY, lambda: uuid.uuid4().hex, timeout=None)
    except Exception as exc:  # the cache server is down or unreachable
        logger.warning(
            "privacy notice rendered uncached: cache unreachable (%s)", type(exc).__name__
        )
        return None


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:  # down: nothing was cached meanwhile either (notice_generation)
        logger.warning(
            "privacy notice generation not replaced: cache unreachable (%s)", type(exc).__name__
        )


def notice_changed(**_kwargs) -> None:
    """Receiver for post_save/post_delete of PolicyVersion and Purpose."""
    _new_generation()
    transaction.on_commit(_new_generation)


def settings_digest(published: dict) -> str:
    return hashlib.sha256(repr(sorted(published.items())).encode()).hexdigest()[:16]
