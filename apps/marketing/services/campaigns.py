"""Writes on campaigns: the checks before sending, sending now or on schedule, cancelling,
resuming, the sweep's drive and the test send. The sending pipeline is in pipeline.py."""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import StaffAction
from apps.core.services import staff_action_record
from apps.customers.models import User
from apps.marketing import content, mail, pipeline
from apps.marketing.models import (
    Campaign,
    Delivery,
)

logger = logging.getLogger(__name__)


def campaign_problems(campaign: Campaign) -> list[str]:
    problems = [_("Missing setting: %s") % name for name in mail.missing_sender_settings(campaign)]
    if not campaign.subject.strip():
        problems.append(_("The subject is empty."))
    if not campaign.body_text.strip():
        problems.append(_("The text body is empty."))
    # The form refuses these on saving; checked again here so no path (a shell, an import, a
    # campaign saved before the rule) sends a reader's data to a URL or unsanitised markup.
    found = content.content_problems(
        subject=campaign.subject, body_text=campaign.body_text, body_html=campaign.body_html
    )
    problems.extend(problem for field_problems in found.values() for problem in field_problems)
    return problems


def _require_sendable(campaign: Campaign) -> None:
    problems = campaign_problems(campaign)
    if problems:
        raise ValidationError([_("This campaign cannot be sent until this is fixed:"), *problems])


@transaction.atomic
def campaign_send_now(*, campaign: Campaign, by: User | None = None) -> Campaign:
    from apps.marketing.tasks import campaign_fanout_task

    campaign = Campaign.objects.select_for_update().select_related("magazine").get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        raise ValidationError(_("Only a draft or scheduled campaign can be sent."))
    _require_sendable(campaign)
    campaign.status = Campaign.Status.SENDING
    campaign.started_at = timezone.now()
    campaign.save(update_fields=["status", "started_at"])
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_SEND, obj=campaign, by_user_id=by and by.pk
    )
    # The campaign in `sending` is the record: if this enqueue fails, the sweep fans it out.
    campaign_id = campaign.pk
    transaction.on_commit(lambda: _enqueue(campaign_fanout_task, campaign_id))
    logger.info("campaign sending campaign_id=%s by_user_id=%s", campaign.pk, by and by.pk)
    return campaign


@transaction.atomic
def campaign_schedule(
    *, campaign: Campaign, at: datetime.datetime, by: User | None = None
) -> Campaign:
    campaign = Campaign.objects.select_for_update().select_related("magazine").get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        raise ValidationError(_("Only a draft campaign can be scheduled."))
    if at <= timezone.now():
        raise ValidationError(_("Choose a time in the future."))
    _require_sendable(campaign)
    campaign.status = Campaign.Status.SCHEDULED
    campaign.scheduled_at = at
    campaign.save(update_fields=["status", "scheduled_at"])
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_SCHEDULE, obj=campaign, by_user_id=by and by.pk
    )
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Stop a scheduled or sending campaign: chunks not yet sent skip their rows."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
        raise ValidationError(_("Only a scheduled or sending campaign can be cancelled."))
    campaign.status = Campaign.Status.CANCELLED
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["status", "finished_at"])
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_CANCEL, obj=campaign, by_user_id=by and by.pk
    )
    # Rows no chunk has claimed yet are settled now (a chunk in flight stops at its next
    # batch), so nothing stays pending whether or not a chunk task ever runs again.
    Delivery.objects.filter(campaign=campaign, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, skip_reason=pipeline.SKIPPED_CANCELLED
    )
    return campaign


def _enqueue(task, *ids: int) -> bool:
    """Enqueue a task now, without the broker's own retries (a request must not hang on a
    broker that is down). A failure is logged by class with the ids only and otherwise
    ignored: the rows are the record, and the next sweep enqueues again."""
    try:
        task.apply_async(ids, retry=False)
    except Exception as exc:
        if task.app.conf.task_always_eager:
            raise  # no broker: the task itself ran here and failed
        logger.warning("enqueue failed task=%s ids=%s error=%s", task.name, ids, type(exc).__name__)
        return False
    return True


def campaign_enqueue_chunks(*, campaign_id: int, ranges: list[tuple[int, int]]) -> int:
    """One chunk task per id range; how many were enqueued."""
    from apps.marketing.tasks import campaign_chunk_task

    return sum(_enqueue(campaign_chunk_task, campaign_id, lo, hi) for lo, hi in ranges)


def _campaign_drive(campaign_id: int, *, even_if_busy: bool) -> str:
    """What the sweep does for one campaign in `sending`: lost workers' rows become unknown;
    a campaign whose fan-out never ran or stopped half-way is fanned out (on from its last
    committed slice); due rows that no chunk is working on get chunk tasks; a campaign with
    nothing left is finalized."""
    from apps.marketing.tasks import campaign_fanout_task

    pipeline.campaign_release_stale(campaign_id=campaign_id)
    fanned_out = pipeline.campaign_is_fanned_out(campaign_id=campaign_id)
    if not fanned_out:
        # Idempotent if it is running right now: the two runs take turns, slice by slice.
        _enqueue(campaign_fanout_task, campaign_id)
    if even_if_busy or pipeline.campaign_is_idle(campaign_id=campaign_id):
        # Rows of slices committed before a fan-out died whose chunk tasks never ran, too.
        ranges = pipeline.campaign_due_ranges(campaign_id=campaign_id)
        if ranges:
            campaign_enqueue_chunks(campaign_id=campaign_id, ranges=ranges)
            return "chunks" if fanned_out else "fanout"
    if not fanned_out:
        return "fanout"
    return pipeline.campaign_finalize(campaign_id=campaign_id)


def campaign_sweep() -> dict[str, int]:
    """Beat, every minute: drive every campaign in `sending` (see _campaign_drive). Two sweeps
    at once are harmless: the claim (SKIP LOCKED) is what guards against sending twice."""
    done: dict[str, int] = {}
    sending = Campaign.objects.filter(status=Campaign.Status.SENDING).order_by("pk")
    for campaign_id in list(sending.values_list("pk", flat=True)):
        state = _campaign_drive(campaign_id, even_if_busy=False)
        done[state] = done.get(state, 0) + 1
    if done:
        logger.info("campaign sweep %s", " ".join(f"{k}={v}" for k, v in sorted(done.items())))
    return done


@transaction.atomic
def campaign_resume(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Staff's "resume sending": rows waiting for the mail server are due now, and the
    campaign is driven at once (as the sweep would, even if a chunk seems busy)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.SENDING:
        raise ValidationError(_("Only a campaign that is sending can be resumed."))
    Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.PENDING, next_attempt_at__isnull=False
    ).update(next_attempt_at=None)
    staff_action_record(
        action=StaffAction.Action.CAMPAIGN_RESUME, obj=campaign, by_user_id=by and by.pk
    )
    campaign_id = campaign.pk
    transaction.on_commit(lambda: _campaign_drive(campaign_id, even_if_busy=True))
    logger.info("campaign resumed campaign_id=%s by_user_id=%s", campaign.pk, by and by.pk)
    return campaign


def campaign_dispatch_due() -> int:
    """Beat: send the scheduled campaigns whose time has come."""
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    sent = 0
    for campaign_id in list(due):
        try:
            campaign_send_now(campaign=Campaign.objects.get(pk=campaign_id))
            sent += 1
        except ValidationError:
            logger.warning("scheduled campaign not sendable campaign_id=%s", campaign_id)
    return sent


def campaign_send_test(*, campaign: Campaign, to_address: str) -> None:
    """Send the campaign once to a staff member's own address, marked as a test."""
    from apps.marketing.mail import PreparedCampaign, Recipient
    from apps.marketing.transport import MailServerUnavailable, Outcome, RawSender

    _require_sendable(campaign)
    prepared = PreparedCampaign(campaign)
    raw, _mid = prepared.render(
        Recipient(address=to_address, name="(テスト / test)", subscription_id=0, delivery_id=0)
    )
    try:
        with RawSender() as sender:
            outcome = sender.send(raw, prepared.from_address, to_address)
    except MailServerUnavailable:
        raise ValidationError(_("The mail server could not be reached. Try again later.")) from None
    if outcome is not Outcome.SENT:
        raise ValidationError(_("The mail server did not accept the test message."))
