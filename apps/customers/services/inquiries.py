"""The public inquiry form: an inquiry and its receipt mail."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.core.durable import durable_enqueue
from apps.customers.models import Customer, Inquiry, User

logger = logging.getLogger(__name__)


@transaction.atomic
def inquiry_create(
    *,
    name: str,
    email: str,
    topic: str,
    message: str,
    phone: str = "",
    customer: Customer | None = None,
) -> Inquiry:
    from apps.customers.tasks import inquiry_acknowledge_task

    inquiry = Inquiry(
        name=name,
        email=User.objects.normalize_email(email),
        phone=phone,
        topic=topic,
        message=message,
        customer=customer,
    )
    inquiry.full_clean()
    inquiry.save()
    durable_enqueue(inquiry_acknowledge_task, inquiry.pk)
    logger.info("inquiry received inquiry_id=%s topic=%s", inquiry.pk, topic)
    return inquiry


def inquiry_mark_answered(*, inquiry: Inquiry) -> None:
    """The inquiry became a privacy request, which answers it from here on."""
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Inquiry.Status.ANSWERED)
    logger.info("inquiry answered inquiry_id=%s", inquiry.pk)


def inquiry_acknowledge(*, inquiry_id: int) -> bool:
    """Mail the inquirer a receipt, once. Returns False when it was already sent."""
    from django.conf import settings
    from django.template.loader import render_to_string

    from apps.core.mail import send_mail

    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().filter(pk=inquiry_id).first()
        if inquiry is None or inquiry.acknowledged_at is not None or not inquiry.email:
            return False  # gone, answered already, or its sender's data was erased
        context = {"inquiry": inquiry, "settings": settings}
        send_mail(
            subject=render_to_string("customers/email/inquiry_ack_subject.txt", context).strip(),
            message=render_to_string("customers/email/inquiry_ack.txt", context),
            from_email=None,
            to=inquiry.email,
        )
        inquiry.acknowledged_at = timezone.now()
        inquiry.save(update_fields=["acknowledged_at"])
    logger.info("inquiry acknowledged inquiry_id=%s", inquiry_id)
    return True
