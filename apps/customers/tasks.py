from celery import shared_task

from apps.customers.services import inquiry_acknowledge


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
