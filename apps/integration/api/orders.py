"""``/api/v1/orders/``: a client's orders under its own ids (``orders:write``).

- ``POST /orders/`` upserts one: 201 created, 200 updated (or unchanged), 409 for an erased
  person (or a restricted one's new order), 422 with field errors: totals that do not add up,
  an unknown customer id ("send it first"), and a full card number anywhere in the body.
- ``POST /orders/bulk/`` upserts up to 1,000 (a JSON array): 200 with one result per item
  (``created``, ``updated``, ``unchanged``, ``conflict``, ``error``); 422 when the body is not an
  array, is too long, or holds a card number anywhere (then nothing at all is stored).
- ``GET /orders/{external_id}/``: the order we hold under that id for this client (404 for
  another client's id). Reading needs ``orders:write``: the client reads back what it wrote.

Writes go through ``apps.integration.ingest.orders.orders_upsert``; the access log names the
orders' ids, never a value.
"""

from __future__ import annotations

import threading

from django.db import IntegrityError, transaction
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from apps.integration.api.base import ApiView
from apps.integration.api.bulk import BULK_MAX_ITEMS, bulk_items, bulk_parse, bulk_rows, raw_field
from apps.integration.api.idempotency import idempotent
from apps.integration.api.problems import Conflict
from apps.integration.api.schema import EXTERNAL_ID_PATH, IDEMPOTENCY_KEY, PROBLEM
from apps.integration.ingest.orders import (
    EXTERNAL_ID_MAX_LENGTH,
    OrderIn,
    Status,
    order_for_external_id,
    orders_upsert,
)
from apps.integration.ingest.types import ItemResult
from apps.integration.models import ExternalCustomer
from apps.orders.models import Order, OrderLine, Payment
from apps.orders.records import CARD_NUMBER_MESSAGE, LineRecord, PaymentRecord, ShipTo
from apps.orders.validators import contains_card_number

MAX_LINES = 500
MAX_YEN = 2_147_483_647
# The client's keys, not text anyone typed: Shopify's 18-digit ids pass the Luhn check one time
# in ten, and refusing them would refuse a tenth of a Shopify shop's orders.
_ID_KEYS = frozenset({"external_id", "customer_external_id"})


def card_number_at(data, path: str = "") -> str | None:
    """Where in a parsed JSON body a full card number is (e.g. "lines.0.name"), or None. Every
    string and number at any depth is checked, keys too, except the client's ids."""
    if isinstance(data, dict):
        for key, value in data.items():
            if contains_card_number(key):  # named, not echoed
                return f"{path}.(a key)" if path else "(a key)"
            here = f"{path}.{key}" if path else str(key)
            if key not in _ID_KEYS or not isinstance(value, str | int):
                found = card_number_at(value, here)
                if found:
                    return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = card_number_at(value, f"{path}.{index}" if path else str(index))
            if found:
                return found
    elif (
        isinstance(data, str | int | float)
        and not isinstance(data, bool)
        and contains_card_number(str(data))
    ):
        return path or "non_field_errors"
    return None


def _refuse_card_numbers(data) -> None:
    found = card_number_at(data)
    if found:
        raise exceptions.ValidationError({found: [str(CARD_NUMBER_MESSAGE)]}, code="card_number")


# ------------------------------------------------------------------ serializers


def _text(model, name: str, **kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=model._meta.get_field(name).max_length, **kwargs)


def _yen(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_YEN, **kwargs)


class OrderLineInSerializer(serializers.Serializer):
    sku = _text(OrderLine, "sku", help_text="The storefront's product code.")
    name = _text(OrderLine, "product_name", required=True, allow_blank=False)
    unit_price = _yen(help_text="Yen, tax included.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return LineRecord(
            sku=values.get("sku", ""),
            name=values["name"],
            unit_price=values["unit_price"],
            quantity=values["quantity"],
        )


class OrderShipToSerializer(serializers.Serializer):
    name = _text(Order, "ship_name")
    postal_code = _text(Order, "ship_postal_code")
    address = _text(Order, "ship_address", help_text="One line, e.g. 東京都渋谷区神宮前1-2-3.")
    phone = _text(Order, "ship_phone")

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return ShipTo(
            **{name: values.get(name, "") for name in ("name", "postal_code", "address", "phone")}
        )


class OrderPaymentInSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Payment.Method.values)
    card_brand = _text(Payment, "card_brand", help_text="e.g. VISA, JCB.")
    card_last4 = serializers.RegexField(
        r"^\d{4}$", required=False, allow_blank=True, help_text="The last four digits only."
    )
    reference = _text(Payment, "reference", help_text="The payment provider's reference.")
    status = serializers.ChoiceField(choices=Payment.Status.values, required=False)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return PaymentRecord(
            method=values["method"],
            card_brand=values.get("card_brand", ""),
            card_last4=values.get("card_last4", ""),
            reference=values.get("reference", ""),
            status=values.get("status") or Payment.Status.PENDING,
        )


class OrderInSerializer(serializers.Serializer):
    """An order as the storefront sold it: its own products, prices and number."""

    external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH, help_text="The client's own id for this order."
    )
    customer_external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        help_text="The client's id of the customer, sent before with POST /api/v1/customers/.",
    )
    number = _text(
        Order, "number", required=True, allow_blank=False, help_text="The order number people see."
    )
    status = serializers.ChoiceField(choices=Order.Status.values, required=False)
    placed_at = serializers.DateTimeField(help_text="With its time zone.")
    lines = OrderLineInSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    subtotal = _yen(help_text="The sum of the lines (unit price × quantity).")
    shipping_fee = _yen(required=False, default=0)
    total = _yen(help_text="Subtotal plus shipping fee.")
    ship_to = OrderShipToSerializer(required=False)
    payment = OrderPaymentInSerializer()

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return OrderIn(
            external_id=values["external_id"],
            customer_external_id=values["customer_external_id"],
            number=values["number"],
            placed_at=values["placed_at"],
            lines=tuple(values["lines"]),
            subtotal=values["subtotal"],
            shipping_fee=values.get("shipping_fee", 0),
            total=values["total"],
            ship_to=values.get("ship_to") or ShipTo(),
            payment=values["payment"],
            status=values.get("status") or Order.Status.PLACED,
        )


class OrderUpsertResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Our id of the order.")
    external_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[Status.CREATED, Status.UPDATED, Status.UNCHANGED, Status.CONFLICT, Status.ERROR]
    )
    changed = serializers.ListField(
        child=serializers.CharField(), help_text="What changed: field names, lines, payment."
    )


class OrderBulkItemResultSerializer(OrderUpsertResultSerializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class OrderLineOutSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="product_name")

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity"]


class OrderPaymentOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["method", "card_brand", "card_last4", "reference", "status", "amount"]


class OrderOutSerializer(serializers.ModelSerializer):
    external_id = serializers.SerializerMethodField()
    customer_external_id = serializers.SerializerMethodField()
    ship_to = serializers.SerializerMethodField()
    lines = OrderLineOutSerializer(many=True, read_only=True)
    payment = OrderPaymentOutSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "customer_external_id",
            "number",
            "status",
            "placed_at",
            "subtotal",
            "shipping_fee",
            "total",
            "ship_to",
            "lines",
            "payment",
            "use_suspended",
        ]

    def get_external_id(self, order) -> str:
        return self.context["external_id"]

    def get_customer_external_id(self, order) -> str | None:
        return self.context["customer_external_id"]

    @extend_schema_field(OrderShipToSerializer)
    def get_ship_to(self, order) -> dict:
        return {
            "name": order.ship_name,
            "postal_code": order.ship_postal_code,
            "address": order.ship_address,
            "phone": order.ship_phone,
        }


_parsers = threading.local()


def _order_parser() -> OrderInSerializer:
    """This thread's parser of orders. A serializer deep-copies its (nested) fields the first
    time it is used, which cost more than the rest of the parsing: one instance per thread,
    used only through ``run_validation`` (which keeps no state on it), does it once."""
    parser = getattr(_parsers, "order", None)
    if parser is None:
        parser = _parsers.order = OrderInSerializer()
    return parser


_SUCCESS_CODES = {
    Status.CREATED: status.HTTP_201_CREATED,
    Status.UPDATED: status.HTTP_200_OK,
    Status.UNCHANGED: status.HTTP_200_OK,
}


def _result_body(result: ItemResult) -> dict:
    return {
        "id": result.object_id,
        "external_id": result.external_id,
        "status": result.status,
        "changed": result.changed,
    }


_EXAMPLE = {
    "external_id": "O-20001",
    "customer_external_id": "C-10001",
    "number": "20001",
    "status": "paid",
    "placed_at": "2026-12-01T10:15:00+09:00",
    "lines": [
        {"sku": "TEA-01", "name": "煎茶 100g", "unit_price": 1200, "quantity": 2},
        {"sku": "CUP-02", "name": "湯呑み", "unit_price": 3800, "quantity": 1},
    ],
    "subtotal": 6200,
    "shipping_fee": 0,
    "total": 6200,
    "ship_to": {
        "name": "山田 花子",
        "postal_code": "150-0001",
        "address": "東京都渋谷区神宮前1-2-3",
        "phone": "090-1234-5678",
    },
    "payment": {"method": "card", "card_brand": "VISA", "card_last4": "4242", "status": "captured"},
}

# ------------------------------------------------------------------ views


class OrdersView(ApiView):
    scopes = {"POST": "orders:write"}
    action_name = "orders.upsert"

    @extend_schema(
        operation_id="orders_upsert",
        summary="Create or update one order under the client's id",
        request=OrderInSerializer,
        responses={
            201: OrderUpsertResultSerializer,
            200: OrderUpsertResultSerializer,
            409: OpenApiResponse(
                description="The person was erased, or is restricted by the shop (no new "
                "orders): nothing was written."
            ),
            422: OpenApiResponse(
                description="Invalid: field errors, totals that do not add up, an unknown "
                "customer id, or a full card number anywhere in the body (nothing was stored)."
            ),
        },
        examples=[OpenApiExample("A paid order", value=_EXAMPLE, request_only=True)],
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        _refuse_card_numbers(request.data)
        order_in = _order_parser().run_validation(request.data)
        try:
            # The order and its access-log row in one transaction (one commit).
            with transaction.atomic(savepoint=False):
                [result] = orders_upsert(client=self.client, items=[order_in])
                if result.object_id is not None:
                    self.log_objects(result.object_id)
                code = _SUCCESS_CODES.get(result.status)
                if code is not None:
                    self.log_call(code)
        except IntegrityError as exc:
            # Another call recorded the same id or number between our read and our write.
            raise Conflict(
                _("This order is being recorded by another call: send it again."),
                code="concurrent_write",
            ) from exc
        if result.status == Status.ERROR:
            raise exceptions.ValidationError(result.errors)
        if result.status == Status.CONFLICT:
            raise Conflict(result.errors["customer"][0], code="person_unavailable")
        return Response(_result_body(result), status=code)


class OrdersBulkView(ApiView):
    scopes = {"POST": "orders:write"}
    action_name = "orders.bulk"

    @extend_schema(
        operation_id="orders_bulk_upsert",
        summary="Create or update up to 1,000 orders, answered per item",
        request=OrderInSerializer(many=True),
        responses={
            200: inline_serializer(
                "OrdersBulkResult", {"results": OrderBulkItemResultSerializer(many=True)}
            ),
            422: OpenApiResponse(
                description="Not an array, more than 1,000 items, or a full card number "
                "anywhere in the body (nothing at all was stored)."
            ),
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        data = bulk_items(
            request.data,
            not_a_list=_("Send a JSON array of orders."),
            too_many=_("At most %(n)d orders per call.") % {"n": BULK_MAX_ITEMS},
        )
        _refuse_card_numbers(data)
        parsed = bulk_parse(data, _order_parser().run_validation)
        try:
            with transaction.atomic(savepoint=False):  # the orders and their log row
                results = orders_upsert(client=self.client, items=parsed.items)
                self.log_objects(*(r.object_id for r in results if r.object_id is not None))
                self.log_call(status.HTTP_200_OK)
        except IntegrityError as exc:
            raise Conflict(
                _("These orders are being recorded by another call: send them again."),
                code="concurrent_write",
            ) from exc
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
                "errors": errors,
            },
        )
        return Response({"results": body}, status=status.HTTP_200_OK)


class OrderDetailView(ApiView):
    scopes = {"GET": "orders:write"}
    action_name = "orders.detail"

    @extend_schema(
        operation_id="orders_retrieve",
        summary="The order we hold under the client's id",
        parameters=[EXTERNAL_ID_PATH],
        responses={200: OrderOutSerializer, 404: PROBLEM},
    )
    def get(self, request, external_id: str):
        order = order_for_external_id(client=self.client, external_id=external_id)
        if order is None:
            raise exceptions.NotFound(_("No order with this id for this client."))
        self.log_objects(order.pk)
        customer_external_id = (
            ExternalCustomer.objects.filter(client=self.client, customer_id=order.customer_id)
            .values_list("external_id", flat=True)
            .first()
        )
        context = {"external_id": external_id, "customer_external_id": customer_external_id}
        return Response(OrderOutSerializer(order, context=context).data)


# Included from apps/integration/api/urls.py under orders/.
urlpatterns = [
    path("", OrdersView.as_view(), name="orders"),
    path("bulk/", OrdersBulkView.as_view(), name="orders-bulk"),
    # A client's ids may hold slashes (Shopify's gid://shopify/Order/1).
    path("<path:external_id>/", OrderDetailView.as_view(), name="order"),
]
