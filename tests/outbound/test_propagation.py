"""Propagation: an erasure, correction or stop reaches every system holding the person, through a
real loopback receiver, and the request completes only when each system's task is done."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from apps.core.durable import job_sweep
from apps.core.models import Job
from apps.integration.models import ApiClient, ExternalCustomer, Scope
from apps.integration.outbound import propagation
from apps.integration.outbound.delivery import deliveries_send
from apps.integration.outbound.models import DownstreamSystem, PropagationTask, WebhookDelivery
from apps.privacy_requests import services
from apps.privacy_requests.models import Kind, PrivacyRequest, Status
from tests.outbound.conftest import make_storefront
from tests.privacy_requests.conftest import staff

pytestmark = pytest.mark.django_db

State = PropagationTask.State


@pytest.fixture
def officer(db):
    from apps.core import roles

    return staff(roles.PRIVACY_OFFICER)


def make_api(scopes, *, name):
    from rest_framework.test import APIClient

    from apps.integration.services import api_key_issue

    row = ApiClient.objects.create(name=name, system=ApiClient.System.OTHER, scopes=scopes)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_issue(client=row)}")
    return row, http


def request_of(customer, kind, **fields):
    """A member's own request from My Page: it starts in review."""
    return services.privacy_request_create_from_mypage(customer=customer, kind=kind, **fields)


@pytest.fixture
def customer(db):
    from tests.factories import CustomerFactory

    return CustomerFactory(date_of_birth=datetime.date(1990, 4, 1))


def storefront_client(customer, *, external_id="sf-1001", name="Own storefront"):
    client = ApiClient.objects.create(
        name=name, system=ApiClient.System.STOREFRONT, scopes=[Scope.PROPAGATIONS_WRITE]
    )
    ExternalCustomer.objects.create(client=client, external_id=external_id, customer=customer)
    return client


def manual_system(name="Carrier (by phone)", **fields):
    return DownstreamSystem.objects.create(
        name=name,
        kind=DownstreamSystem.Kind.CARRIER,
        reached_by=DownstreamSystem.Reach.MANUAL,
        holds_every_customer=True,
        **fields,
    )


def carry_out(pr, officer, capture):
    with capture(execute=True):
        services.privacy_request_approve(privacy_request=pr, by=officer)
        services.privacy_request_carry_out(privacy_request=pr, by=officer)
    return PrivacyRequest.objects.get(pk=pr.pk)


def bodies(receiver):
    return [json.loads(r["body"]) for r in receiver.requests]


def completion_mails(smtp):
    return [m["message"] for m in smtp.messages if "is complete" in m["message"]["Subject"]]


def test_erasure_completes_only_after_the_webhook_and_the_manual_task(
    customer,
    officer,
    receiver,
    loopback_allowed,
    smtp_settings,
    django_capture_on_commit_callbacks,
):
    client = storefront_client(customer)
    make_storefront(receiver.url, api_client=client, event_types=["consent.changed"])
    carrier = manual_system()
    receiver.answers = [503]  # the storefront's first answer fails: its task stays open

    pr = carry_out(request_of(customer, Kind.ERASURE), officer, django_capture_on_commit_callbacks)

    assert pr.status == Status.CARRYING_OUT
    assert pr.erasure_report  # the erasure itself is done and recorded
    # The timeline says why it is still open.
    assert list(pr.events.values_list("step", flat=True))[-1] == "waiting_for_systems"
    tasks = {t.system.name: t for t in PropagationTask.objects.select_related("system")}
    assert {name: t.state for name, t in tasks.items()} == {
        "Storefront": State.SENT,
        carrier.name: State.OPEN,
    }
    # The storefront was sent the id it knows the person by, read before the eraser hashed it.
    (body,) = bodies(receiver)
    assert body["type"] == "customer.erased"
    assert body["data"]["customer"] == {"id": customer.pk, "external_ids": ["sf-1001"]}
    assert body["data"]["propagation"]["id"] == tasks["Storefront"].pk
    assert not ExternalCustomer.objects.filter(external_id="sf-1001").exists()

    # The retry gets a 2xx: the webhook task is done, the manual one still holds the request.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_send(endpoint_id=tasks["Storefront"].delivery.endpoint_id)
    assert PropagationTask.objects.get(pk=tasks["Storefront"].pk).state == State.DONE
    pr.refresh_from_db()
    assert pr.status == Status.CARRYING_OUT
    assert completion_mails(smtp_settings) == []

    # Staff confirm the manual task: the request completes, and the notice names both systems.
    with django_capture_on_commit_callbacks(execute=True):
        propagation.propagation_task_done(task_id=tasks[carrier.name].pk, by=officer)
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    (mail,) = completion_mails(smtp_settings)
    text = mail.get_content()
    assert "- Storefront" in text and f"- {carrier.name}" in text


def test_a_correction_sends_the_new_values_and_nothing_else(
    customer, officer, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    client = storefront_client(customer)
    make_storefront(receiver.url, api_client=client)
    pr = request_of(
        customer,
        Kind.CORRECTION,
        requested_changes={"phone": "03-1111-2222", "family_name": customer.family_name},
    )

    pr = carry_out(pr, officer, django_capture_on_commit_callbacks)

    (body,) = bodies(receiver)
    assert body["type"] == "customer.corrected"
    assert body["data"]["changes"] == {"phone": "03-1111-2222"}  # the unchanged field is not sent
    assert set(body["data"]) == {"changes", "customer", "propagation"}
    assert body["data"]["customer"] == {"id": customer.pk, "external_ids": ["sf-1001"]}
    # Delivered: the task is done and the request completed; the log keeps field names only.
    assert pr.status == Status.COMPLETED
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload is None
    assert "03-1111-2222" not in json.dumps(delivery.data)
    assert PropagationTask.objects.get().fields == ["phone"]


def test_a_system_that_never_knew_the_person_gets_no_task(
    customer, officer, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    from tests.factories import CustomerFactory

    other = CustomerFactory()
    client = storefront_client(other, external_id="sf-2002")  # it knows someone else only
    make_storefront(receiver.url, api_client=client)
    DownstreamSystem.objects.create(
        name="Ads", kind="ad_platform", reached_by=DownstreamSystem.Reach.MANUAL
    )  # linked to no client, not holding every customer

    pr = carry_out(
        request_of(customer, Kind.STOP_OF_USE), officer, django_capture_on_commit_callbacks
    )

    assert pr.status == Status.COMPLETED
    assert not PropagationTask.objects.exists()
    assert receiver.requests == []


def test_a_stop_of_provision_is_sent_as_restricted_with_its_scope(
    customer, officer, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    client = storefront_client(customer)
    make_storefront(receiver.url, api_client=client)

    pr = carry_out(
        request_of(customer, Kind.STOP_OF_PROVISION),
        officer,
        django_capture_on_commit_callbacks,
    )

    (body,) = bodies(receiver)
    assert body["type"] == "customer.restricted"
    assert body["data"]["scope"] == "stop_of_provision"
    assert pr.status == Status.COMPLETED


def _confirming_setup(customer, receiver):
    row, http = make_api([Scope.PROPAGATIONS_WRITE], name="Mail provider")
    ExternalCustomer.objects.create(client=row, external_id="mp-1", customer=customer)
    endpoint, _secret = make_storefront(receiver.url, api_client=row, name="Mail provider")
    DownstreamSystem.objects.filter(pk=endpoint.system_id).update(confirms_propagation=True)
    return row, http


def test_a_confirming_system_completes_the_request_by_the_confirm_endpoint(
    customer, officer, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    _row, http = _confirming_setup(customer, receiver)
    _other_row, other_http = make_api([Scope.PROPAGATIONS_WRITE], name="Other client")
    _none, no_scope = make_api([Scope.REQUESTS_WRITE], name="No scope")

    pr = carry_out(request_of(customer, Kind.ERASURE), officer, django_capture_on_commit_callbacks)
    task = PropagationTask.objects.get()
    assert task.state == State.CONFIRMING  # delivered (2xx), waiting for its confirmation
    assert pr.status == Status.CARRYING_OUT
    url = f"/api/v1/propagations/{task.pk}/confirm"

    assert no_scope.post(url).status_code == 403
    assert other_http.post(url).status_code == 404  # another client's task: as if none
    assert http.post("/api/v1/propagations/99999999999999999999/confirm").status_code == 404
    task.refresh_from_db()
    assert task.state == State.CONFIRMING

    with django_capture_on_commit_callbacks(execute=True):
        answer = http.post(url)
    assert answer.status_code == 200 and answer.json()["state"] == "done"
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    assert http.post(url).status_code == 200  # twice: the same answer, nothing more


def test_cannot_be_done_needs_a_reason_and_closes_the_task(
    customer, officer, django_capture_on_commit_callbacks
):
    carrier = manual_system()
    pr = carry_out(request_of(customer, Kind.ERASURE), officer, django_capture_on_commit_callbacks)
    task = PropagationTask.objects.get(system=carrier)
    assert pr.status == Status.CARRYING_OUT

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        propagation.propagation_task_cannot(task_id=task.pk, by=officer, reason="  ")
    task.refresh_from_db()
    assert task.state == State.OPEN

    with django_capture_on_commit_callbacks(execute=True):
        propagation.propagation_task_cannot(
            task_id=task.pk, by=officer, reason="The carrier keeps shipping records by law"
        )
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
    assert propagation.propagation_informed(pr.pk) == []  # not informed: not listed


def test_redis_down_the_sweeps_still_complete_it(
    customer, officer, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    client = storefront_client(customer)
    make_storefront(receiver.url, api_client=client)
    receiver.answers = [503]
    pr = carry_out(request_of(customer, Kind.ERASURE), officer, django_capture_on_commit_callbacks)
    assert pr.status == Status.CARRYING_OUT

    from tests.faults import broker_at, closed_url

    with broker_at(closed_url()), django_capture_on_commit_callbacks(execute=True):
        # The worker the webhook sweep starts gets its 2xx; the completing job cannot be enqueued.
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        deliveries_send(endpoint_id=WebhookDelivery.objects.get().endpoint_id)
    assert PropagationTask.objects.get().state == State.DONE
    pr.refresh_from_db()
    assert pr.status == Status.CARRYING_OUT
    job = Job.objects.get(task__endswith="propagation_complete_task")
    assert job.args == [pr.pk] and job.state == Job.State.PENDING

    # Redis back: the job sweep runs it.
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        job_sweep()
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED


def test_carrying_out_again_creates_no_second_task(
    customer, officer, django_capture_on_commit_callbacks
):
    manual_system()
    pr = carry_out(request_of(customer, Kind.ERASURE), officer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_carry_out_again(privacy_request=pr, by=officer)
    assert PropagationTask.objects.count() == 1
    pr.refresh_from_db()
    assert pr.status == Status.CARRYING_OUT


# ---------------------------------------------------------------------- admin


def test_admin_request_page_lists_the_systems_and_the_queue_closes_manual_tasks(
    customer, officer, client, settings, django_capture_on_commit_callbacks
):
    settings.PROPAGATION_OVERDUE_DAYS = 7
    carrier = manual_system()
    ads = manual_system(name="Ad platform (manual)")
    pr = carry_out(request_of(customer, Kind.ERASURE), officer, django_capture_on_commit_callbacks)
    late = PropagationTask.objects.get(system=ads)
    PropagationTask.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=8)
    )
    client.force_login(officer)

    page = client.get(f"/admin/privacy_requests/privacyrequest/{pr.pk}/change/").content.decode()
    assert "Systems holding a copy" in page
    assert carrier.name in page and ads.name in page
    assert page.count("overdue") >= 1 and "8 days" in page

    def listed(query):
        answer = client.get(f"/admin/integration/propagationtask/?{query}")
        return {task.system.name for task in answer.context["cl"].result_list}

    assert listed("queue=manual") == {carrier.name, ads.name}
    assert listed("queue=overdue") == {ads.name}

    changelist = "/admin/integration/propagationtask/"
    # "Cannot be done" without a reason changes nothing.
    client.post(
        changelist, {"action": "cannot_be_done", "_selected_action": [late.pk], "reason": ""}
    )
    assert PropagationTask.objects.get(pk=late.pk).state == State.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            changelist,
            {
                "action": "cannot_be_done",
                "_selected_action": [late.pk],
                "reason": "No API, no staff",
            },
        )
        pr.refresh_from_db()
        assert pr.status == Status.CARRYING_OUT  # the carrier's task is still open
        client.post(
            changelist,
            {
                "action": "confirm_done",
                "_selected_action": [PropagationTask.objects.get(system=carrier).pk],
            },
        )
    assert dict(PropagationTask.objects.values_list("system__name", "state")) == {
        carrier.name: State.DONE,
        ads.name: State.CANNOT,
    }
    assert PropagationTask.objects.get(pk=late.pk).done_by == officer
    pr.refresh_from_db()
    assert pr.status == Status.COMPLETED
