from celery import shared_task

from apps.core.services import retention_run


@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60, ignore_result=True)
def retention_run_task() -> None:
    """Daily (Celery beat, see migration core 0001). Every rule is idempotent: a second run on
    the same day finds nothing left to do."""
    retention_run()
