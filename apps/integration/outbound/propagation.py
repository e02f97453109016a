"""Propagation: an erasure, correction or stop carried out here reaches every system that holds
a copy of the person's data, and the request completes only when each has it.

The request app tells the completion port (apps/core/completion.py) what it carried out, in
the transaction that carries it out; ``propagation_start`` (this app's gate) then writes one
``PropagationTask`` per active system that holds the person:

- a system whose API client brought the person (an ``ExternalCustomer`` row), or one marked
  ``holds_every_customer`` (the mail provider);
- a webhook system gets the matching event (``customer.erased`` with the ids it knows the person
  by, ``customer.corrected`` with the fields' new values, ``customer.restricted`` with the
  scope) as a ``WebhookDelivery`` of the existing machinery (retries, sweep, log); its task is
  done on a 2xx (``deliveries_delivered``, called where the delivery is recorded), or, for a
  system that ``confirms_propagation``, on ``POST /api/v1/propagations/{id}/confirm``;
- a manual system (or a webhook system without an endpoint) gets a task staff close from the
  admin: done, or cannot be done with the reason.

The erasure is told before the erasers run (the request app does so), so the ids each system
knows the person by are read before apps/integration/privacy.py replaces them with hashes.

When a request's last open task closes, a durable job asks the port to complete the request
(``request_complete``): with Redis down its row waits for the job sweep, and the request's own
transition and completion notice do the rest. Events are sent to a holding system whatever it
subscribed to: passing an erasure on is the shop's duty, not the receiver's option.
"""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import completion, events
from apps.core.durable import durable_enqueue
from apps.integration.ingest.customers import ERASED_PREFIX
from apps.integration.models import ExternalCustomer
from apps.integration.outbound.hub import body_for, external_ids_for, kept_data, new_msg_id
from apps.integration.outbound.models import (
    DownstreamSystem,
    PropagationTask,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

Action = PropagationTask.Action
State = PropagationTask.State
OPEN_STATES = (State.OPEN, State.SENT, State.CONFIRMING)

EVENT_OF = {
    Action.ERASURE: events.CUSTOMER_ERASED,
    Action.CORRECTION: events.CUSTOMER_CORRECTED,
    Action.STOP_OF_USE: events.CUSTOMER_RESTRICTED,
    Action.STOP_OF_PROVISION: events.CUSTOMER_RESTRICTED,
}
PROPAGATION_EVENTS = frozenset(EVENT_OF.values())


def systems_holding(*, customer_id: int) -> list[DownstreamSystem]:
    """The active systems that hold a copy of the person's data."""
    clients = ExternalCustomer.objects.filter(customer_id=customer_id).exclude(
        external_id__startswith=ERASED_PREFIX
    )
    return list(
        DownstreamSystem.objects.filter(is_active=True)
        .filter(Q(holds_every_customer=True) | Q(api_client_id__in=clients.values("client_id")))
        .select_related("endpoint")
        .order_by("name")
    )


def _endpoint(system: DownstreamSystem) -> WebhookEndpoint | None:
    if system.reached_by != DownstreamSystem.Reach.WEBHOOK:
        return None
    try:
        return system.endpoint
    except WebhookEndpoint.DoesNotExist:
        return None  # a webhook system not yet given its endpoint: staff do it by hand


def _event_data(task: PropagationTask, carried: completion.CarriedOut) -> dict:
    data: dict = {"propagation": {"id": task.pk, "confirm": task.system.confirms_propagation}}
    if task.action == Action.CORRECTION:
        data["changes"] = dict(carried.changes)
    elif task.action in (Action.STOP_OF_USE, Action.STOP_OF_PROVISION):
        data["scope"] = task.action
    return data


def propagation_start(carried: completion.CarriedOut) -> bool:
    """The gate's ``carried_out``: write the tasks (and webhook deliveries) in the caller's
    transaction. A request carried out again writes nothing more. True when nothing is open."""
    existing = PropagationTask.objects.filter(privacy_request_id=carried.request_id)
    if existing.exists():
        return not existing.filter(state__in=OPEN_STATES).exists()
    if carried.action == completion.CORRECTION and not carried.changes:
        return True  # nothing changed: nothing to pass on
    action = Action(carried.action)
    event_type = EVENT_OF[action]
    systems = systems_holding(customer_id=carried.customer_id)
    if not systems:
        return True
    clients = [s.api_client_id for s in systems if s.api_client_id]
    # Read now: for an erasure, before the erasers replace them.
    external = external_ids_for(customer_id=carried.customer_id, client_ids=clients)
    now = timezone.now()
    endpoints_to_send: set[int] = set()
    for system in systems:
        endpoint = _endpoint(system)
        task = PropagationTask.objects.create(
            system=system,
            privacy_request_id=carried.request_id,
            customer_id=carried.customer_id,
            action=action,
            fields=sorted(carried.changes),
            state=State.SENT if endpoint else State.OPEN,
            due_on=carried.due_on,
            created_at=now,
        )
        if endpoint is None:
            continue
        event_id = uuid.uuid4()
        data = _event_data(task, carried)
        task.delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            msg_id=new_msg_id(),
            event_type=event_type,
            customer_id=carried.customer_id,
            occurred_at=now,
            data=kept_data(event_type, data),
            payload=body_for(
                event_id=event_id,
                event_type=event_type,
                occurred_at=now,
                customer_id=carried.customer_id,
                external_ids=external.get(system.api_client_id),
                data=data,
            ),
            next_attempt_at=now,
            created_at=now,
        )
        task.save(update_fields=["delivery"])
        if endpoint.enabled:
            endpoints_to_send.add(endpoint.pk)
    from apps.integration.outbound.tasks import send_on_commit

    for endpoint_id in sorted(endpoints_to_send):
        send_on_commit(endpoint_id)
    logger.info(
        "propagation tasks created request_id=%s tasks=%s", carried.request_id, len(systems)
    )
    return False


def propagation_is_open(request_id: int) -> bool:
    """The gate's ``is_open``: no task of the request is still open."""
    return not PropagationTask.objects.filter(
        privacy_request_id=request_id, state__in=OPEN_STATES
    ).exists()


def propagation_informed(request_id: int) -> list[str]:
    """The gate's ``informed``: the systems that applied it, for the completion notice."""
    return list(
        PropagationTask.objects.filter(privacy_request_id=request_id, state=State.DONE)
        .order_by("system__name")
        .values_list("system__name", flat=True)
    )


def _closed(request_ids: set[int]) -> None:
    """Tasks closed: a request with none left open is completed by a durable job (in this
    transaction; with Redis down the job sweep runs it)."""
    from apps.integration.outbound.tasks import propagation_complete_task

    for request_id in sorted(request_ids):
        if propagation_is_open(request_id):
            durable_enqueue(propagation_complete_task, request_id)


def deliveries_delivered(delivery_ids: list[int]) -> None:
    """Called where deliveries are recorded as delivered (in that transaction): their tasks
    are done, or wait for the system's confirmation."""
    if not delivery_ids:
        return
    tasks = list(
        PropagationTask.objects.select_for_update()
        .filter(delivery_id__in=delivery_ids, state=State.SENT)
        .select_related("system")
    )
    if not tasks:
        return
    now = timezone.now()
    closed: set[int] = set()
    for task in tasks:
        if task.system.confirms_propagation:
            task.state = State.CONFIRMING
        else:
            task.state, task.done_at = State.DONE, now
            closed.add(task.privacy_request_id)
    PropagationTask.objects.bulk_update(tasks, ["state", "done_at"])
    _closed(closed)


def _locked(task_id: int) -> PropagationTask:
    return PropagationTask.objects.select_for_update().select_related("system").get(pk=task_id)


@transaction.atomic
def propagation_confirm(*, task_id: int, client_id: int) -> PropagationTask:
    """The system confirms it applied the task (the API). Raises DoesNotExist for a task of
    another system's client (the view answers 404); confirming twice changes nothing."""
    task = (
        PropagationTask.objects.select_for_update()
        .select_related("system")
        .get(pk=task_id, system__api_client_id=client_id)
    )
    if task.state == State.CANNOT:
        raise ValidationError(_("This task was recorded as not possible."))
    if task.state != State.DONE:
        task.state, task.done_at = State.DONE, timezone.now()
        task.save(update_fields=["state", "done_at"])
        logger.info("propagation confirmed task_id=%s", task.pk)
        _closed({task.privacy_request_id})
    return task


@transaction.atomic
def propagation_task_done(*, task_id: int, by) -> PropagationTask:
    """Staff confirm the system was told (a manual task, or a webhook that never got through
    and was passed on another way)."""
    task = _locked(task_id)
    if task.is_closed:
        raise ValidationError(_("This task is closed already."))
    task.state, task.done_at, task.done_by = State.DONE, timezone.now(), by
    task.save(update_fields=["state", "done_at", "done_by"])
    logger.info("propagation task done by staff task_id=%s", task.pk)
    _closed({task.privacy_request_id})
    return task


@transaction.atomic
def propagation_task_cannot(*, task_id: int, by, reason: str) -> PropagationTask:
    """Staff record why the task cannot be done; it counts as closed for the request."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why it cannot be done.")})
    task = _locked(task_id)
    if task.is_closed:
        raise ValidationError(_("This task is closed already."))
    task.state, task.done_at, task.done_by = State.CANNOT, timezone.now(), by
    task.reason = reason[:300]
    task.save(update_fields=["state", "done_at", "done_by", "reason"])
    logger.info("propagation task cannot be done task_id=%s", task.pk)
    _closed({task.privacy_request_id})
    return task


def register() -> None:
    """From IntegrationConfig.ready()."""
    completion.gate_register(
        completion.Gate(
            name="integration.propagation",
            carried_out=propagation_start,
            is_open=propagation_is_open,
            informed=propagation_informed,
        )
    )
