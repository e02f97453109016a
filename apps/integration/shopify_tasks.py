"""Shopify's privacy webhooks, carried out in the background: the job carries the webhook row's
id only (the e-mail Shopify sent never reaches the broker, nor the row). Durable
(apps/core/durable.py): written with the row, retried with backoff, shown to staff when given
up; running it twice files nothing twice (the service locks the row and checks its state)."""

from apps.core.durable import durable_task
from apps.integration.shopify_services import shopify_webhook_process


@durable_task(time_limit=10 * 60, soft_time_limit=9 * 60)
def shopify_webhook_process_task(webhook_id: int) -> None:
    shopify_webhook_process(webhook_id=webhook_id)
