"""API clients' keys: issue (rotation with an overlap), revoke. Each change is one transaction
with its staff-action record (ids only)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.models import StaffAction
from apps.core.services import staff_action_record
from apps.integration.api.authentication import key_generate
from apps.integration.models import ApiClient, ApiKey

logger = logging.getLogger(__name__)


def _overlap() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.API_KEY_ROTATION_OVERLAP_HOURS)


@transaction.atomic
def api_key_issue(*, client: ApiClient, by_user_id: int | None = None) -> str:
    """A new key for ``client``, returned once (only its hash is kept). The client's other
    keys keep working for the rotation overlap (``API_KEY_ROTATION_OVERLAP_HOURS``), so the
    storefront can switch without downtime; a key already ending sooner keeps its end."""
    now = timezone.now()
    ends = now + _overlap()
    ApiKey.objects.filter(client=client, revoked_at__isnull=True, expires_at__isnull=True).update(
        expires_at=ends
    )
    ApiKey.objects.filter(client=client, revoked_at__isnull=True, expires_at__gt=ends).update(
        expires_at=ends
    )
    key, prefix, hashed = key_generate()
    ApiKey.objects.create(client=client, prefix=prefix, key_hash=hashed, created_at=now)
    staff_action_record(action=StaffAction.Action.API_KEY_ISSUE, obj=client, by_user_id=by_user_id)
    logger.info("api key issued client_id=%s prefix=%s", client.pk, prefix)
    return key


@transaction.atomic
def api_keys_revoke(*, client: ApiClient, by_user_id: int | None = None) -> int:
    """Every key of ``client`` stops working: now in this process, within
    ``API_KEY_CACHE_SECONDS`` in the others (apps/integration/api/authentication.py)."""
    from apps.integration.api.authentication import forget_keys

    count = ApiKey.objects.filter(client=client, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    forget_keys()
    staff_action_record(action=StaffAction.Action.API_KEY_REVOKE, obj=client, by_user_id=by_user_id)
    logger.info("api keys revoked client_id=%s count=%s", client.pk, count)
    return count
