from celery import shared_task

from apps.core.services import retention_run


@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60, ignore_result=True)
def retention_run_task() -> None:
    """Daily (Celery beat, see apps/core/schedules.py). Every rule is idempotent: a second run on
    the same day finds nothing left to do."""
    retention_run()


@shared_task(time_limit=120, soft_time_limit=110, ignore_result=True)
def job_sweep_task() -> None:
    """Every minute (Celery beat, see apps/core/schedules.py): enqueue the durable work that is
    due (apps/core/durable.py). Safe on several beat or worker machines at once."""
    from apps.core.durable import job_sweep

    job_sweep()
