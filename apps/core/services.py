from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from apps.core.roles import ROLE_PERMISSIONS


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create or update the staff groups so each holds exactly its role's permissions."""
    counts = {}
    for role, perm_names in ROLE_PERMISSIONS.items():
        query = Q(pk__in=[])
        for name in perm_names:
            app_label, codename = name.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(query))
        missing = set(perm_names) - {
            f"{p.content_type.app_label}.{p.codename}" for p in permissions
        }
        if missing:
            raise LookupError(f"unknown permissions for {role}: {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts
