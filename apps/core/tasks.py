from celery import shared_task
from celery.signals import worker_init, worker_process_init

from apps.core.services import retention_run


@worker_init.connect
@worker_process_init.connect
def worker_warm_up(**_kwargs) -> None:
    """Load once, when a worker (or a pool child) starts, what the first task would otherwise
    load while a campaign chunk or a notice waits: the URL configuration (every mail links to
    an unsubscribe or My Page URL) and the translation catalogues of the shop's languages."""
    from django.conf import settings
    from django.urls import get_resolver, reverse
    from django.utils import translation

    get_resolver().reverse_dict  # noqa: B018 (builds the reverse lookup tables)
    reverse("mypage:overview")
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Privacy")


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
