"""Thin Celery tasks over the pipeline. Every task is safe to run twice (acks_late: a task a
lost worker was running is delivered again; the claim step makes the rerun send nothing twice).
None of them is the record of its work: the campaign and its Delivery rows are, and the sweep
(every minute) enqueues again whatever a lost or never-enqueued task left."""

from celery import shared_task

from apps.core.durable import durable_task
from apps.marketing import pipeline, services

COMMON = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


# Each slice's chunks are enqueued as soon as it is committed: they are sent while the next
# slice is written. Killed half-way, it is run again by the sweep and goes on from there.
@shared_task(time_limit=600, soft_time_limit=590, **COMMON)
def campaign_fanout_task(campaign_id: int) -> None:
    for ranges in pipeline.campaign_fanout_slices(campaign_id=campaign_id):
        services.campaign_enqueue_chunks(campaign_id=campaign_id, ranges=ranges)


# No autoretry: a mail server that is unavailable defers the rows themselves (a retry time on
# each), and the sweep sends them when they are due.
@shared_task(time_limit=300, soft_time_limit=290, **COMMON)
def campaign_chunk_task(campaign_id: int, lo: int, hi: int) -> None:
    result = pipeline.campaign_send_chunk(campaign_id=campaign_id, lo=lo, hi=hi)
    if result["finalized"] == pipeline.Finalize.IN_FLIGHT:
        # Other chunks are still sending, or a lost worker left rows behind: look again once
        # such rows count as stale.
        campaign_finalize_task.apply_async(
            (campaign_id,),
            countdown=pipeline.campaign_seconds_until_stale(campaign_id=campaign_id),
        )


@shared_task(time_limit=60, soft_time_limit=55, **COMMON)
def campaign_finalize_task(campaign_id: int) -> None:
    state = pipeline.campaign_finalize(campaign_id=campaign_id)
    if state == pipeline.Finalize.IN_FLIGHT:
        campaign_finalize_task.apply_async(
            (campaign_id,),
            countdown=pipeline.campaign_seconds_until_stale(campaign_id=campaign_id),
        )


@shared_task(time_limit=120, soft_time_limit=110, **COMMON)
def campaign_dispatch_due_task() -> None:
    services.campaign_dispatch_due()


@shared_task(time_limit=120, soft_time_limit=110, **COMMON)
def campaign_sweep_task() -> None:
    services.campaign_sweep()


# Durable (apps/core/durable.py): the id only; the link's token is derived from the row.
@durable_task(time_limit=60, soft_time_limit=55)
def subscription_confirmation_task(subscription_id: int) -> None:
    services.subscription_confirmation_send(subscription_id=subscription_id)
