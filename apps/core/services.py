import datetime
import logging

from django.contrib.auth.models import Group, Permission
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import retention
from apps.core.models import StaffAction
from apps.core.roles import ROLE_PERMISSIONS

logger = logging.getLogger(__name__)


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create or update the staff groups so each holds exactly its role's permissions."""
    counts = {}
    for role, perm_names in ROLE_PERMISSIONS.items():
        query = Q(pk__in=[])
        for name in perm_names:
            app_label, codename = name.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(query).select_related("content_type"))
        missing = set(perm_names) - {
            f"{p.content_type.app_label}.{p.codename}" for p in permissions
        }
        if missing:
            raise LookupError(f"unknown permissions for {role}: {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


def retention_run(*, today: datetime.date | None = None, dry_run: bool = False) -> dict[str, int]:
    """Apply every registered retention rule for ``today``; returns the count per rule.

    Each rule manages its own transactions (one per person or per chunk), so one failing rule
    neither undoes nor blocks the others' finished work; it is logged and re-raised at the end.
    """
    today = today or timezone.localdate()
    counts: dict[str, int] = {}
    failed: list[str] = []
    for rule in retention.rules():
        try:
            counts[rule.name] = rule.apply(today=today, dry_run=dry_run)
        except Exception:
            logger.exception("retention rule failed rule=%s", rule.name)
            failed.append(rule.name)
            continue
        logger.info(
            "retention rule=%s dry_run=%s today=%s count=%d",
            rule.name,
            dry_run,
            today.isoformat(),
            counts[rule.name],
        )
    if failed:
        raise RuntimeError(f"retention rules failed: {', '.join(failed)}")
    return counts


def staff_action_record(
    *, action: str, obj: models.Model, by_user_id: int | None = None
) -> StaffAction:
    """Append the record of a staff decision about ``obj``; its callers are the services that
    make the change, inside their transaction, so neither exists without the other. Ids only."""
    if action not in StaffAction.Action.values:
        raise ValueError(f"unknown staff action {action!r}")
    if obj.pk is None:
        raise ValueError("a staff action is recorded about a saved object")
    return StaffAction.objects.create(
        staff_user_id=by_user_id,
        action=action,
        model_label=obj._meta.label,
        object_id=str(obj.pk),
    )
