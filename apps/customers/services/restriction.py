"""Restricting a customer for a terms violation (resale prevention), and lifting it."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.locks import person_lock
from apps.core.models import StaffAction
from apps.core.services import staff_action_record
from apps.customers.models import Customer, User

logger = logging.getLogger(__name__)


@transaction.atomic
def customer_restrict(*, customer: Customer, reason: str, by: User | None = None) -> Customer:
    """Restrict a customer for a terms violation (e.g. resale); they can no longer order."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"restriction_reason": _("Give the reason for the restriction.")})
    customer = person_lock(customer_id=customer.pk).customer
    if customer.status == Customer.Status.ERASED:
        raise ValidationError(_("An erased customer cannot be restricted."))
    customer.status = Customer.Status.RESTRICTED
    customer.restriction_reason = reason
    customer.restricted_at = timezone.now()
    customer.save(update_fields=["status", "restriction_reason", "restricted_at", "updated_at"])
    staff_action_record(
        action=StaffAction.Action.CUSTOMER_RESTRICT, obj=customer, by_user_id=by and by.pk
    )
    logger.info("customer restricted customer_id=%s by_user_id=%s", customer.pk, by and by.pk)
    return customer


@transaction.atomic
def customer_lift_restriction(*, customer: Customer, by: User | None = None) -> Customer:
    customer = person_lock(customer_id=customer.pk).customer
    if customer.status != Customer.Status.RESTRICTED:
        raise ValidationError(_("This customer is not restricted."))
    customer.status = Customer.Status.ACTIVE
    customer.restriction_reason = ""
    customer.restricted_at = None
    customer.save(update_fields=["status", "restriction_reason", "restricted_at", "updated_at"])
    staff_action_record(
        action=StaffAction.Action.CUSTOMER_LIFT_RESTRICTION, obj=customer, by_user_id=by and by.pk
    )
    logger.info("restriction lifted customer_id=%s by_user_id=%s", customer.pk, by and by.pk)
    return customer
