"""Publishing a version of the privacy policy (a widening one asks members again)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.consents.models import (
    ConsentEvent,
    ConsentState,
    PolicyVersion,
    Purpose,
)
from apps.customers.models import User

logger = logging.getLogger(__name__)

Action = ConsentEvent.Action
Status = ConsentState.Status


# ------------------------------------------------------------------ the policy


@transaction.atomic
def policy_version_publish(*, version: PolicyVersion, by: User | None = None) -> PolicyVersion:
    """Publish a version. If it widens purposes, grants under older versions stop covering them:
    those states become "pending confirmation" until the member answers again."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise ValidationError(_("This version is already published and can no longer change."))
    widened = list(version.widened_purposes.all())
    if version.widens_purposes and not widened:
        raise ValidationError(_("Choose the purposes this version widens."))
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    pending = 0
    if version.widens_purposes:
        Purpose.objects.filter(pk__in=[p.pk for p in widened]).update(scope_version=version)
        pending = ConsentState.objects.filter(
            purpose__in=widened, status=Status.GRANTED, customer__isnull=False
        ).update(status=Status.PENDING, updated_at=timezone.now())
    logger.info(
        "policy version published version_id=%s widening=%s pending=%s",
        version.pk,
        version.widens_purposes,
        pending,
    )
    return version
