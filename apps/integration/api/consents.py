"""Consent events in (one, or up to 1,000 answered per item) and the consent check (one person,
or up to 1,000), for the storefront's checkout, account pages, tag manager and its own mailers.

The views parse with serializers and call ``apps.integration.ingest.consents`` (writes) or
``apps.integration.selectors`` (the check); the access log
names the ledger events written and the customers checked (ids only).
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.integration.api.base import ApiView
from apps.integration.api.bulk import BULK_MAX_ITEMS, bulk_items, bulk_parse, bulk_rows, raw_field
from apps.integration.api.idempotency import idempotent
from apps.integration.api.problems import problem
from apps.integration.ingest.consents import ACTIONS, API_SOURCES, consent_events_apply
from apps.integration.ingest.types import ConsentEventIn, Evidence
from apps.integration.models import Scope
from apps.integration.selectors import NEVER_ASKED, consents_check

MAX_ITEMS = BULK_MAX_ITEMS

# ---------------------------------------------------------------------- serializers


class ConsentEvidenceSerializer(serializers.Serializer):
    policy_version = serializers.CharField(
        max_length=20, help_text=gettext_lazy("The label of a published policy version, e.g. 1.0.")
    )
    source = serializers.ChoiceField(
        choices=[str(s) for s in API_SOURCES], help_text=gettext_lazy("Where the choice was made.")
    )
    at = serializers.DateTimeField(help_text=gettext_lazy("When the person made the choice."))
    wording = serializers.CharField(
        max_length=10_000,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=gettext_lazy("The exact words shown (or give wording_id)."),
    )
    wording_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The id of a wording already recorded (or give wording)."),
    )
    ip_address = serializers.IPAddressField(required=False, allow_null=True)
    user_agent = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @staticmethod
    def to_evidence(data: dict) -> Evidence:
        return Evidence(
            policy_version=data["policy_version"],
            source=data["source"],
            at=data["at"],
            wording=data.get("wording") or "",
            wording_id=data.get("wording_id"),
            ip_address=data.get("ip_address") or None,
            user_agent=data.get("user_agent") or "",
        )


class ConsentEventSerializer(serializers.Serializer):
    customer = serializers.CharField(
        max_length=100, help_text=gettext_lazy("Your id of the customer (sent to /customers/).")
    )
    purpose = serializers.SlugField(max_length=50, help_text=gettext_lazy("A purpose code."))
    action = serializers.ChoiceField(choices=list(ACTIONS))
    evidence = ConsentEvidenceSerializer(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Required for a grant: a grant without it is refused."),
    )
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("For a withdrawal without evidence: when it was made."),
    )
    source = serializers.ChoiceField(
        choices=[str(s) for s in API_SOURCES],
        required=False,
        help_text=gettext_lazy("For a withdrawal without evidence: where it was made."),
    )

    @staticmethod
    def to_event(data: dict) -> ConsentEventIn:
        evidence = data.get("evidence")
        return ConsentEventIn(
            customer_external_id=data["customer"],
            purpose=data["purpose"],
            action=data["action"],
            evidence=None if evidence is None else ConsentEvidenceSerializer.to_evidence(evidence),
            at=data.get("at"),
            source=data.get("source", ""),
        )


class ConsentEventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    customer = serializers.CharField(help_text=gettext_lazy("Your id of the customer."))
    status = serializers.ChoiceField(
        choices=["recorded", "unchanged", "refused", "conflict", "error"]
    )
    id = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The ledger event written, if any.")
    )
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    suppressed = serializers.BooleanField(
        help_text=gettext_lazy(
            "The address is on the suppression list and stays there: a grant does not lift it."
        )
    )


class ConsentEventBulkResultSerializer(serializers.Serializer):
    results = ConsentEventResultSerializer(many=True)


class ConsentCheckQuerySerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=100)
    purpose = serializers.SlugField(max_length=50)


class ConsentCheckSerializer(serializers.Serializer):
    customer = serializers.CharField()
    purpose = serializers.CharField()
    allowed = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["granted", "withdrawn", "pending", NEVER_ASKED])
    since = serializers.DateTimeField(allow_null=True)


class ConsentCheckBatchRequestSerializer(serializers.Serializer):
    purpose = serializers.SlugField(max_length=50)
    customers = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1, max_length=MAX_ITEMS
    )


class ConsentCheckBatchSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    results = ConsentCheckSerializer(many=True)
    unknown = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("The ids you sent that name no customer of yours."),
    )


# ---------------------------------------------------------------------- views

_GRANT_EXAMPLE = OpenApiExample(
    "A grant at checkout",
    value={
        "customer": "C-1001",
        "purpose": "newsletter",
        "action": "grant",
        "evidence": {
            "policy_version": "1.0",
            "source": "checkout",
            "at": "2026-12-01T10:15:00+09:00",
            "wording": "メールマガジンを受け取る",
            "ip_address": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
        },
    },
    request_only=True,
)
_WITHDRAW_EXAMPLE = OpenApiExample(
    "A withdrawal",
    value={"customer": "C-1001", "purpose": "newsletter", "action": "withdraw"},
    request_only=True,
)
_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A repeat with the same key returns the first answer; nothing runs twice.",
)
_PROBLEM = {
    409: OpenApiResponse(description="An erased or restricted person (problem details)."),
    422: OpenApiResponse(
        description="Invalid input, or a grant refused (no evidence, or older than the "
        "person's current answer) (problem details with errors)."
    ),
}


def _result_row(result) -> dict:
    return {
        "index": result.index,
        "customer": result.external_id,
        "status": result.status,
        "id": result.object_id,
        "errors": result.errors,
        "suppressed": result.suppressed,
    }


class ConsentEventView(ApiView):
    scopes = {"POST": Scope.CONSENTS_WRITE}
    action_name = "consents.event"

    @extend_schema(
        operation_id="consent_event_record",
        request=ConsentEventSerializer,
        responses={
            201: ConsentEventResultSerializer,
            200: ConsentEventResultSerializer,
            **_PROBLEM,
        },
        examples=[_GRANT_EXAMPLE, _WITHDRAW_EXAMPLE],
        summary="Record one consent grant or withdrawal",
        parameters=[_IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        parsed = ConsentEventSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        event = ConsentEventSerializer.to_event(parsed.validated_data)
        (result,) = consent_events_apply(client=self.client, items=[event])
        if result.object_id is not None:
            self.log_objects(result.object_id)
        if result.status == "conflict":
            return problem(409, detail=_first(result.errors), code="conflict", errors=result.errors)
        if result.status in ("refused", "error"):
            code = "consent_refused" if result.status == "refused" else "invalid"
            detail = _first(result.errors)
            return problem(422, detail=detail, code=code, errors=result.errors)
        return Response(_result_row(result), status=201 if result.status == "recorded" else 200)


class ConsentEventBulkView(ApiView):
    scopes = {"POST": Scope.CONSENTS_WRITE}
    action_name = "consents.events_bulk"

    @extend_schema(
        operation_id="consent_events_bulk",
        request=ConsentEventSerializer(many=True),
        responses={
            200: ConsentEventBulkResultSerializer,
            422: OpenApiResponse(description="Not a list, or more than 1,000 items."),
        },
        summary="Record up to 1,000 consent events, answered per item",
        parameters=[_IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        items = bulk_items(
            request.data,
            not_a_list=_("Send a JSON list of consent events."),
            too_many=_("At most %(max)s consent events per request.") % {"max": MAX_ITEMS},
        )
        parser = ConsentEventSerializer()
        parsed = bulk_parse(items, lambda item: parser.to_event(parser.run_validation(item)))
        results = consent_events_apply(client=self.client, items=parsed.items)

        def row(index, result):
            result.index = index
            return _result_row(result)

        rows = bulk_rows(
            items,
            parsed,
            results,
            row=row,
            error_row=lambda index, raw, errors: {
                "index": index,
                "customer": raw_field(raw, "customer"),
                "status": "error",
                "id": None,
                "errors": errors,
                "suppressed": False,
            },
        )
        self.log_objects(*(r.object_id for r in results if r.object_id is not None))
        return Response({"results": rows})


class ConsentCheckView(ApiView):
    scopes = {"GET": Scope.CONSENTS_READ}
    action_name = "consents.check"

    @extend_schema(
        operation_id="consent_check",
        parameters=[
            OpenApiParameter("customer", str, required=True, description="Your customer id."),
            OpenApiParameter("purpose", str, required=True, description="A purpose code."),
        ],
        responses={
            200: ConsentCheckSerializer,
            404: OpenApiResponse(description="No customer of yours by this id."),
            422: OpenApiResponse(description="A parameter missing, or an unknown purpose."),
        },
        summary="May we use this person for this purpose now?",
    )
    def get(self, request):
        query = ConsentCheckQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer, code = query.validated_data["customer"], query.validated_data["purpose"]
        answers = consents_check(client=self.client, external_ids=[customer], purpose_code=code)
        if answers is None:
            return _unknown_purpose()
        if not answers:
            return problem(404, detail=_("No customer with this external id for this API client."))
        (answer,) = answers
        self.log_objects(answer.customer_id)
        return Response(_answer_row(answer, code))


class ConsentCheckBatchView(ApiView):
    scopes = {"POST": Scope.CONSENTS_READ}
    action_name = "consents.check_batch"

    @extend_schema(
        operation_id="consent_check_batch",
        request=ConsentCheckBatchRequestSerializer,
        responses={200: ConsentCheckBatchSerializer, 422: _PROBLEM[422]},
        examples=[
            OpenApiExample(
                "Three customers",
                value={"purpose": "remarketing", "customers": ["C-1001", "C-1002", "C-1003"]},
                request_only=True,
            )
        ],
        summary="The consent check for up to 1,000 customers",
        parameters=[_IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        query = ConsentCheckBatchRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        code = query.validated_data["purpose"]
        wanted = list(dict.fromkeys(query.validated_data["customers"]))
        answers = consents_check(client=self.client, external_ids=wanted, purpose_code=code)
        if answers is None:
            return _unknown_purpose()
        self.log_objects(*(answer.customer_id for answer in answers))
        known = {answer.customer for answer in answers}
        return Response(
            {
                "purpose": code,
                "results": [_answer_row(answer, code) for answer in answers],
                "unknown": [external_id for external_id in wanted if external_id not in known],
            }
        )


def _answer_row(answer, code: str) -> dict:
    return {
        "customer": answer.customer,
        "purpose": code,
        "allowed": answer.allowed,
        "status": answer.status,
        "since": answer.since,
    }


def _unknown_purpose():
    message = _("Unknown purpose code.")
    return problem(422, detail=message, code="invalid", errors={"purpose": [message]})


def _first(errors: dict[str, list[str]]) -> str:
    for messages in errors.values():
        if messages:
            return messages[0]
    return ""


urlpatterns = [
    path("events/", ConsentEventView.as_view(), name="consent-events"),
    path("events/bulk/", ConsentEventBulkView.as_view(), name="consent-events-bulk"),
    path("check", ConsentCheckView.as_view(), name="consent-check"),
    path("check/batch/", ConsentCheckBatchView.as_view(), name="consent-check-batch"),
]
