"""Thin tasks: each takes an id, and the service it calls re-checks state, so running one twice
changes nothing more."""

from celery import shared_task

from apps.privacy_requests import services


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
    ignore_result=True,
)
def notice_send_task(notice_id: int) -> None:
    services.notice_send(notice_id=notice_id)


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=10 * 60,
    soft_time_limit=9 * 60,
    ignore_result=True,
)
def privacy_request_execute_task(privacy_request_id: int) -> None:
    services.privacy_request_execute(privacy_request_id=privacy_request_id)


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60, ignore_result=True)
def privacy_requests_purge_task() -> None:
    services.privacy_requests_purge()
