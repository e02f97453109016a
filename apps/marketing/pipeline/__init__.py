"""The campaign sending pipeline, run by Celery tasks (tasks.py).

The campaign in `sending` and its Delivery rows are the record of the work; Celery only makes it
fast. A lost task, a failed enqueue (Redis down), a killed worker or a mail server that refuses
connections delays the work; the sweep (every minute, services.campaign_sweep) picks it up again.

1. fan-out: the eligible recipients are selected in SQL and their Delivery rows written in
   slices of MARKETING_FANOUT_SLICE, in customer id order, one INSERT … SELECT and one short
   transaction each (unique per campaign and recipient, so a repeated fan-out adds nothing);
   each slice's chunk tasks (one per range of delivery ids) are enqueued as soon as it commits,
   so sending starts after the first slice. The last slice sets `fanned_out_at`; until then the
   campaign is never finalized, and the sweep runs the fan-out again (it goes on after the last
   committed slice).
2. chunk: in half-batches of MARKETING_CLAIM_BATCH / 2 (10) over one SMTP connection, claim the
   due pending rows (pending → sending, with SKIP LOCKED, so two workers never claim the same
   row) and re-check their eligibility in the same statement (a withdrawal a second ago counts:
   those rows become `skipped`), send, record; the next half-batch is claimed (and the last one
   recorded) on a second connection while this one is sent, so at most 20 rows of a worker are
   ever in `sending`. Where the server offers PIPELINING, each message's content goes with the
   next one's commands (transport.RawSender.submit); a batch is recorded once every message of
   it has its answer. A row is only ever
   sent from `sending`, and only by the chunk that claimed it: a retried, redelivered or
   duplicated chunk finds nothing left to claim. A server that is unreachable, times out or
   answers 4xx puts the rows back to pending with a retry time (exponential backoff); a 5xx
   fails that one recipient (at RCPT: a hard bounce, suppressed).
3. finalize: when nothing is pending or in flight, the campaign is `sent`; rows a lost worker
   left in `sending` are reported `unknown` and never resent (at most one batch per worker).

The modules: fanout (1), chunk (2: the send loop) with records (its claim and record
statements), sweep (3, and the sweep's reads and writes). Callers import the package.
"""

from apps.marketing.pipeline.chunk import campaign_send_chunk
from apps.marketing.pipeline.fanout import campaign_fanout, campaign_fanout_slices
from apps.marketing.pipeline.records import (
    FAILED_BAD_ADDRESS,
    FAILED_BOUNCED,
    FAILED_KEPT_DEFERRING,
    FAILED_NEEDS_SMTPUTF8,
    FAILED_NOT_BUILT,
    FAILED_REFUSED,
    FAILED_UNREACHABLE,
    SKIPPED_CANCELLED,
    SKIPPED_CHANGED,
    SKIPPED_INELIGIBLE,
    _ChunkQueries,
    retry_delay,
)
from apps.marketing.pipeline.sweep import (
    Finalize,
    campaign_due_ranges,
    campaign_finalize,
    campaign_is_fanned_out,
    campaign_is_idle,
    campaign_release_stale,
    campaign_seconds_until_stale,
    chunk_size,
)

__all__ = [
    "FAILED_BAD_ADDRESS",
    "FAILED_BOUNCED",
    "FAILED_KEPT_DEFERRING",
    "FAILED_NEEDS_SMTPUTF8",
    "FAILED_NOT_BUILT",
    "FAILED_REFUSED",
    "FAILED_UNREACHABLE",
    "SKIPPED_CANCELLED",
    "SKIPPED_CHANGED",
    "SKIPPED_INELIGIBLE",
    "Finalize",
    "_ChunkQueries",
    "campaign_due_ranges",
    "campaign_fanout",
    "campaign_fanout_slices",
    "campaign_finalize",
    "campaign_is_fanned_out",
    "campaign_is_idle",
    "campaign_release_stale",
    "campaign_seconds_until_stale",
    "campaign_send_chunk",
    "chunk_size",
    "retry_delay",
]
