"""``POST /api/v1/propagations/<id>/confirm`` (propagations:write): a system that confirms what
it applied (``DownstreamSystem.confirms_propagation``) says it has erased, corrected or
restricted the person of a ``customer.erased`` / ``customer.corrected`` / ``customer.restricted``
event (the event's ``data.propagation.id``). Its task is then done, and the privacy request
completes once every system's task is (apps/integration/outbound/propagation.py).

A task of another system, or one that does not exist, is a 404 alike; confirming twice answers
the same. A scope of its own: a mail provider that confirms erasures needs no right to file
requests.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from apps.integration.api.base import ApiView
from apps.integration.api.problems import Conflict
from apps.integration.outbound.models import PropagationTask
from apps.integration.outbound.propagation import propagation_confirm

BIGINT_MAX = 2**63 - 1


class PropagationOut(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="done once confirmed.")
    done_at = serializers.DateTimeField(allow_null=True)


class PropagationConfirmView(ApiView):
    scopes = {"POST": "propagations:write"}
    action_name = "propagations.confirm"

    @extend_schema(
        operation_id="propagations_confirm",
        request=None,
        responses={
            200: PropagationOut,
            404: OpenApiResponse(description="No such task for this client's system."),
            409: OpenApiResponse(description="The task was recorded as not possible."),
        },
    )
    def post(self, request, task_id: int):
        try:
            if task_id > BIGINT_MAX:  # the path accepts any digits; no row has such an id
                raise PropagationTask.DoesNotExist
            task = propagation_confirm(task_id=task_id, client_id=self.client.pk)
        except PropagationTask.DoesNotExist as exc:
            raise exceptions.NotFound(_("No such propagation task for this client.")) from exc
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        self.log_objects(task.pk)
        return Response(
            {
                "id": task.pk,
                "state": task.state,
                "done_at": serializers.DateTimeField().to_representation(task.done_at),
            }
        )


# Included by apps/integration/api/urls.py.
urlpatterns = [
    path("<int:task_id>/confirm", PropagationConfirmView.as_view(), name="propagation-confirm"),
]
