"""Thin tasks: each takes an id, and the service it calls re-checks state, so running one twice
changes nothing more. The notice and execution tasks are durable (apps/core/durable.py): their
row is written with the change, and the sweep retries them with backoff until done."""

from apps.core.durable import durable_task
from apps.privacy_requests import services


@durable_task(time_limit=60, soft_time_limit=50)
def notice_send_task(notice_id: int) -> None:
    services.notice_send(notice_id=notice_id)


@durable_task(time_limit=10 * 60, soft_time_limit=9 * 60)
def privacy_request_execute_task(privacy_request_id: int) -> None:
    services.privacy_request_execute(privacy_request_id=privacy_request_id)
