from celery import shared_task

from apps.customers.services import (
    email_change_notice_send,
    email_confirmation_send,
    inquiry_acknowledge,
)

MAIL_TASK = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "max_retries": 5,
    "time_limit": 60,
    "soft_time_limit": 50,
    "ignore_result": True,
}


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
    ignore_result=True,
)
def inquiry_acknowledge_task(inquiry_id: int) -> None:
    inquiry_acknowledge(inquiry_id=inquiry_id)


# Ids only: the address and the token are read (or derived) from the row, never sent through
# the broker. Sending twice is harmless (the same link, the same notice), so retries are safe.
@shared_task(**MAIL_TASK)
def email_confirmation_send_task(confirmation_id: int) -> None:
    email_confirmation_send(confirmation_id=confirmation_id)


@shared_task(**MAIL_TASK)
def email_change_notice_task(confirmation_id: int) -> None:
    email_change_notice_send(confirmation_id=confirmation_id)
