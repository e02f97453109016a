"""Ids only: the address and the token are read (or derived) from the row, never sent through
the broker. Each is durable (apps/core/durable.py): written with the change, retried by the sweep
with backoff until sent. Sending twice is harmless (the same link, the same notice), and the
inquiry receipt is marked sent in its own row, so a rerun sends nothing more."""

from apps.core.durable import durable_task
from apps.customers.services import (
    email_change_notice_send,
    email_confirmation_send,
    inquiry_acknowledge,
    password_reset_send,
    signup_existing_account_send,
)

MAIL_TASK = {"time_limit": 60, "soft_time_limit": 50}


@durable_task(**MAIL_TASK)
def inquiry_acknowledge_task(inquiry_id: int) -> None:
    inquiry_acknowledge(inquiry_id=inquiry_id)


@durable_task(**MAIL_TASK)
def email_confirmation_send_task(confirmation_id: int) -> None:
    email_confirmation_send(confirmation_id=confirmation_id)


@durable_task(**MAIL_TASK)
def email_change_notice_task(confirmation_id: int) -> None:
    email_change_notice_send(confirmation_id=confirmation_id)


@durable_task(**MAIL_TASK)
def password_reset_send_task(user_id: int) -> None:
    password_reset_send(user_id=user_id)


@durable_task(**MAIL_TASK)
def signup_existing_account_task(user_id: int) -> None:
    signup_existing_account_send(user_id=user_id)
