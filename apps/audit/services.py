"""Writes of the audit app: access-log rows and staff two-factor devices."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AccessLog
from apps.customers.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def access_log_record(
    *,
    staff_user_id: int,
    action: str,
    model_label: str,
    object_ids: Iterable[object],
    ip_address: str | None = None,
    visit: str = "",
) -> int:
    """Append one row for one page view or write, holding every object id it was about;
    returns how many ids it holds (no row when there are none)."""
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access-log action {action!r}")
    ids = [str(object_id) for object_id in dict.fromkeys(object_ids) if object_id is not None]
    if not ids:
        return 0
    AccessLog.objects.create(
        staff_user_id=staff_user_id,
        action=action,
        model_label=model_label,
        object_id=ids[0] if len(ids) == 1 else "",
        object_ids="," + ",".join(ids) + ",",
        visit=visit,
        at=timezone.now(),
        ip_address=ip_address or None,
    )
    return len(ids)


def access_log_visit_key(session_key: str | None) -> str:
    """The visit a staff request belongs to: a keyed digest of its session, so the rows of one
    sitting group together while the log holds nothing that could resume the session."""
    if not session_key:
        return ""
    return salted_hmac("apps.audit.visit", session_key).hexdigest()[:16]


# ------------------------------------------------------------------ staff two-factor login

ENROLMENT_DEVICE_NAME = "authenticator app"


@transaction.atomic
def staff_otp_device_create(*, user: User, name: str = ENROLMENT_DEVICE_NAME) -> TOTPDevice:
    """Start enrolment: a new, unconfirmed TOTP device. It does not count for login until
    ``staff_otp_device_confirm`` has seen a valid token from it."""
    if not user.is_staff:
        raise ValueError("two-factor devices are for staff accounts")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=name, confirmed=False)
    logger.info("otp device created user_id=%s device_id=%s", user.pk, device.pk)
    return device


@transaction.atomic
def staff_otp_device_confirm(*, user: User, token: str) -> TOTPDevice | None:
    """Finish enrolment: confirm the pending device when the token is valid."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    logger.info("otp device confirmed user_id=%s device_id=%s", user.pk, device.pk)
    return device
