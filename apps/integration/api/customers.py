"""``/api/v1/customers/``: a client's customers under its own ids (``customers:write``).

- ``POST /customers/`` upserts one: 201 created, 200 updated (or unchanged), 409 for a person
  erased, restricted by the shop or who stopped the use of their data, 422 with field errors.
- ``POST /customers/bulk/`` upserts up to 1,000 (a JSON array): 200 with one result per item
  (``created``, ``updated``, ``unchanged``, ``conflict``, ``error``); 422 only when the body
  is not an array or is too long.
- ``GET /customers/{external_id}/`` what we hold under that id for this client (404 for
  another client's id). Reading needs ``customers:write`` too: the issue's scopes have no
  ``customers:read``, and a client that may write a record may read back what it wrote.

All writes go through ``apps.integration.ingest.customers.customers_upsert``, as the imports
do; the access log names the customers' ids, never a value.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from apps.customers.models import Address, Customer
from apps.customers.services.records import KINDS
from apps.integration.api.base import ApiView
from apps.integration.api.bulk import BULK_MAX_ITEMS, bulk_items, bulk_parse, bulk_rows, raw_field
from apps.integration.api.idempotency import idempotent
from apps.integration.api.problems import Conflict
from apps.integration.api.schema import EXTERNAL_ID_PATH, IDEMPOTENCY_KEY, PROBLEM
from apps.integration.ingest.customers import (
    EXTERNAL_ID_MAX_LENGTH,
    Status,
    customer_for_external_id,
    customers_upsert,
)
from apps.integration.ingest.types import AddressIn, CustomerIn, ItemResult

# ------------------------------------------------------------------ serializers


def _text(model, name: str, **kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=model._meta.get_field(name).max_length, **kwargs)


class AddressInSerializer(serializers.Serializer):
    recipient_name = _text(Address, "recipient_name", required=True, allow_blank=False)
    postal_code = _text(
        Address,
        "postal_code",
        required=True,
        allow_blank=False,
        help_text="Japanese: 123-4567 (1234567, full-width digits and 〒 are accepted).",
    )
    prefecture = _text(Address, "prefecture", help_text="One of the 47 prefectures, e.g. 東京都.")
    city = _text(Address, "city", required=True, allow_blank=False)
    line1 = _text(Address, "line1", required=True, allow_blank=False)
    line2 = _text(Address, "line2")
    phone = _text(Address, "phone", help_text="Empty: the customer's phone.")
    country = _text(Address, "country", help_text="ISO 3166-1 alpha-2; default JP.")
    label = _text(Address, "label")

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return AddressIn(
            recipient_name=values["recipient_name"],
            postal_code=values["postal_code"],
            prefecture=values.get("prefecture", ""),
            city=values["city"],
            line1=values["line1"],
            line2=values.get("line2", ""),
            phone=values.get("phone", ""),
            country=values.get("country") or "JP",
            label=values.get("label", ""),
        )


class CustomerInSerializer(serializers.Serializer):
    """A customer as the client knows them. An empty or missing field keeps what we hold."""

    external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH, help_text="The client's own id for this person."
    )
    kind = serializers.ChoiceField(
        choices=KINDS, help_text="member: has an account on the storefront; guest: bought without."
    )
    acquired_via = serializers.ChoiceField(
        choices=Customer.AcquiredVia.values,
        required=False,
        allow_blank=True,
        help_text="How the data was acquired, set at creation only. Default: signup for a "
        "member, purchase for a guest.",
    )
    family_name = _text(Customer, "family_name")
    given_name = _text(Customer, "given_name")
    family_name_kana = _text(
        Customer, "family_name_kana", help_text="Katakana (hiragana accepted)."
    )
    given_name_kana = _text(Customer, "given_name_kana", help_text="Katakana (hiragana accepted).")
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = _text(Customer, "phone", help_text="03-1234-5678, 090-1234-5678 or +81312345678.")
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    addresses = AddressInSerializer(
        many=True,
        required=False,
        max_length=20,
        help_text="Added when not held yet; never deleted here.",
    )

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return CustomerIn(
            external_id=values["external_id"],
            kind=values["kind"],
            acquired_via=values.get("acquired_via", ""),
            family_name=values.get("family_name", ""),
            given_name=values.get("given_name", ""),
            family_name_kana=values.get("family_name_kana", ""),
            given_name_kana=values.get("given_name_kana", ""),
            email=values.get("email", ""),
            phone=values.get("phone", ""),
            date_of_birth=values.get("date_of_birth"),
            addresses=tuple(values.get("addresses", ())),
        )


class UpsertResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Our id of the customer.")
    external_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[Status.CREATED, Status.UPDATED, Status.UNCHANGED, Status.CONFLICT, Status.ERROR]
    )
    changed = serializers.ListField(
        child=serializers.CharField(), help_text="Names of the fields that changed."
    )
    suppressed = serializers.BooleanField(
        help_text="The e-mail is on the suppression list: it gets no mail magazine, whatever "
        "this call says."
    )


class BulkItemResultSerializer(UpsertResultSerializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class AddressOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "label",
            "recipient_name",
            "country",
            "postal_code",
            "prefecture",
            "city",
            "line1",
            "line2",
            "phone",
            "is_default",
        ]


class CustomerOutSerializer(serializers.ModelSerializer):
    external_id = serializers.SerializerMethodField()
    addresses = AddressOutSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "status",
            "acquired_via",
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "email",
            "phone",
            "date_of_birth",
            "addresses",
            "created_at",
            "updated_at",
        ]

    def get_external_id(self, customer) -> str:
        return self.context["external_id"]


def _result_body(result: ItemResult) -> dict:
    return {
        "id": result.object_id,
        "external_id": result.external_id,
        "status": result.status,
        "changed": result.changed,
        "suppressed": result.suppressed,
    }


_EXAMPLE = {
    "external_id": "C-10001",
    "kind": "guest",
    "acquired_via": "purchase",
    "family_name": "山田",
    "given_name": "花子",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "ハナコ",
    "email": "hanako@example.jp",
    "phone": "090-1234-5678",
    "addresses": [
        {
            "recipient_name": "山田 花子",
            "postal_code": "150-0001",
            "prefecture": "東京都",
            "city": "渋谷区神宮前",
            "line1": "1-2-3",
            "line2": "",
        }
    ],
}

# ------------------------------------------------------------------ views


class CustomersView(ApiView):
    scopes = {"POST": "customers:write"}
    action_name = "customers.upsert"

    @extend_schema(
        operation_id="customers_upsert",
        summary="Create or update one customer under the client's id",
        request=CustomerInSerializer,
        responses={
            201: UpsertResultSerializer,
            200: UpsertResultSerializer,
            409: OpenApiResponse(
                description="The person was erased, is restricted by the shop, or asked to "
                "stop the use of their data: nothing was written."
            ),
            422: PROBLEM,
        },
        examples=[OpenApiExample("A guest purchaser", value=_EXAMPLE, request_only=True)],
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        parsed = CustomerInSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        [result] = customers_upsert(client=self.client, items=[parsed.validated_data])
        if result.object_id is not None:
            self.log_objects(result.object_id)
        if result.status == Status.ERROR:
            raise exceptions.ValidationError(result.errors)
        if result.status == Status.CONFLICT:
            raise Conflict(result.errors["non_field_errors"][0], code="person_unavailable")
        code = status.HTTP_201_CREATED if result.status == Status.CREATED else status.HTTP_200_OK
        return Response(_result_body(result), status=code)


class CustomersBulkView(ApiView):
    scopes = {"POST": "customers:write"}
    action_name = "customers.bulk"

    @extend_schema(
        operation_id="customers_bulk_upsert",
        summary="Create or update up to 1,000 customers, answered per item",
        request=CustomerInSerializer(many=True),
        responses={
            200: inline_serializer(
                "CustomersBulkResult", {"results": BulkItemResultSerializer(many=True)}
            ),
            422: PROBLEM,
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        data = bulk_items(
            request.data,
            not_a_list=_("Send a JSON array of customers."),
            too_many=_("At most %(n)d items per call.") % {"n": BULK_MAX_ITEMS},
        )
        parsed = bulk_parse(data, CustomerInSerializer().run_validation)
        results = customers_upsert(client=self.client, items=parsed.items)
        body = bulk_rows(
            data,
            parsed,
            results,
            row=lambda index, result: {
                "index": index,
                **_result_body(result),
                "errors": result.errors,
            },
            error_row=lambda index, raw, errors: {
                "index": index,
                "id": None,
                "external_id": raw_field(raw, "external_id", EXTERNAL_ID_MAX_LENGTH),
                "status": Status.ERROR,
                "changed": [],
                "suppressed": False,
                "errors": errors,
            },
        )
        self.log_objects(*(r.object_id for r in results if r.object_id is not None))
        return Response({"results": body}, status=status.HTTP_200_OK)


class CustomerDetailView(ApiView):
    scopes = {"GET": "customers:write"}
    action_name = "customers.detail"

    @extend_schema(
        operation_id="customers_retrieve",
        summary="What we hold for the client's id",
        parameters=[EXTERNAL_ID_PATH],
        responses={200: CustomerOutSerializer, 404: PROBLEM},
    )
    def get(self, request, external_id: str):
        customer = customer_for_external_id(client=self.client, external_id=external_id)
        if customer is None:
            raise exceptions.NotFound(_("No customer with this id for this client."))
        self.log_objects(customer.pk)
        return Response(CustomerOutSerializer(customer, context={"external_id": external_id}).data)


# Included from apps/integration/api/urls.py under customers/.
urlpatterns = [
    path("", CustomersView.as_view(), name="customers"),
    path("bulk/", CustomersBulkView.as_view(), name="customers-bulk"),
    # A client's ids may hold slashes (Shopify's gid://shopify/Customer/1).
    path("<path:external_id>/", CustomerDetailView.as_view(), name="customer"),
]
