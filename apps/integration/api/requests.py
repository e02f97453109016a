"""Privacy requests and inquiries from the storefront, and the privacy-center link.

- ``POST /api/v1/requests/`` (requests:write): the storefront's own request form, for a person it
  brought (its external id). The request app receives it through ``apps.core.intake`` (this app
  may not import it) with the identity vouched for by this client: see
  apps/privacy_requests/intake.py for what that means and why a privacy officer accepts it.
- ``GET /api/v1/requests/<reference>/`` (requests:read): its state; a request of a person this
  client did not bring is a 404, as one that does not exist.
- ``POST /api/v1/inquiries/`` (requests:write): the storefront's contact form.
- ``POST /api/v1/customers/<external id>/privacy-link`` (requests:write): a one-time URL to My
  Page's privacy pages (apps/integration/privacy_link.py).

An unknown person is a 422 in a body (``customer``) and a 404 in a path; an erased one a 409.
A restricted person (terms violation) keeps their privacy rights: requests and links work.

There is no ``law`` to send: which law applies is the shop's rule, not the filer's pick. APPI
always; the GDPR as well when the person's address on file is in the EU/EEA (or staff record that
they are there). A ``law`` a client still sends is ignored, as any unknown field is.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from apps.core.intake import RequestFiling, request_file, request_state
from apps.customers.models import Customer, Inquiry
from apps.customers.services import inquiry_create
from apps.integration.api.base import ApiView
from apps.integration.api.idempotency import idempotent
from apps.integration.api.problems import Conflict
from apps.integration.models import ExternalCustomer, PrivacyLink
from apps.integration.privacy_link import privacy_link_issue, privacy_link_path

# The request app's kinds (apps/privacy_requests/models.py Kind; a test keeps the two equal):
# named here because this app may not import that one.
KINDS = {
    "purpose_notification": "Notification of the purpose of use (APPI Art. 32)",
    "disclosure": "Disclosure (APPI Art. 33)",
    "provision_records": "Disclosure of third-party provision records (APPI Art. 33(5))",
    "correction": "Correction (APPI Art. 34)",
    "addition": "Addition (APPI Art. 34)",
    "deletion": "Deletion (APPI Art. 34)",
    "stop_of_use": "Stop of use (APPI Art. 35)",
    "erasure": "Erasure (APPI Art. 35)",
    "stop_of_provision": "Stop of provision to third parties (APPI Art. 35(3))",
    "gdpr_access": "Access (GDPR Art. 15; a person in the EU/EEA only)",
    "gdpr_portability": "Data portability (GDPR Art. 20; a person in the EU/EEA only)",
    "gdpr_objection": "Objection (GDPR Art. 21; a person in the EU/EEA only)",
}
# What a correction or addition may change (as on My Page).
CHANGE_FIELDS = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "date_of_birth",
    "phone",
    "email",
]


def person_of(client, external_id: str, *, in_path: bool) -> Customer:
    """The person ``client`` knows as ``external_id``: unknown is a 404 (in the path) or a 422
    (in the body), erased a 409."""
    row = (
        ExternalCustomer.objects.select_related("customer")
        .filter(client=client, external_id=external_id)
        .first()
    )
    if row is None:
        message = _("No customer with this id was sent by this client: send them first.")
        if in_path:
            raise exceptions.NotFound(message)
        raise exceptions.ValidationError({"customer": [message]})
    if row.customer.status == Customer.Status.ERASED:
        raise Conflict(
            _("This person's data was erased at their request: nothing is held to act on."),
            code="erased",
        )
    return row.customer


# ------------------------------------------------------------------ requests


class RequestIn(serializers.Serializer):
    customer = serializers.CharField(
        max_length=100, help_text="Your id for the person (as sent to /api/v1/customers/)."
    )
    kind = serializers.ChoiceField(choices=list(KINDS.items()))
    details = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default="", help_text="What was asked."
    )
    requested_changes = serializers.DictField(
        child=serializers.CharField(max_length=254, allow_blank=True),
        required=False,
        help_text="For a correction or addition: {field: new value}; fields: "
        + ", ".join(CHANGE_FIELDS)
        + " (date_of_birth as YYYY-MM-DD). A correction may also name one of the person's "
        "addresses, address:<our address id>:<field> (recipient_name, country, postal_code, "
        "prefecture, city, line1, line2, phone), or an order's shipping snapshot, "
        "order:<order number>:<field> (ship_name, ship_postal_code, ship_address, ship_phone).",
    )
    disclosure_form = serializers.ChoiceField(
        choices=["electronic", "paper"],
        default="electronic",
        help_text="For a disclosure: electronic (download from My Page) or paper (posted to "
        "the person's default address).",
    )
    language = serializers.ChoiceField(
        choices=["ja", "en"], required=False, help_text="Language of the notices mailed."
    )


class RequestOut(serializers.Serializer):
    reference = serializers.CharField(help_text="Our reference, e.g. PR-2026-000123.")
    kind = serializers.CharField()
    status = serializers.CharField(
        help_text="received, identity, fee, review, approved, rejected, carrying_out, "
        "completed or withdrawn."
    )
    status_label = serializers.CharField(help_text="The status in words.")
    received_at = serializers.DateTimeField()
    due_on = serializers.DateField(allow_null=True, help_text="The answer is due by this date.")
    completed_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was closed (completed, rejected or withdrawn)."
    )


_REQUEST_EXAMPLE = OpenApiExample(
    "An erasure request",
    value={"customer": "shop-1001", "kind": "erasure", "details": "Please delete my account."},
    request_only=True,
)


class RequestsView(ApiView):
    scopes = {"POST": "requests:write"}
    action_name = "requests.file"

    @extend_schema(
        operation_id="requests_file",
        request=RequestIn,
        responses={
            201: RequestOut,
            404: OpenApiResponse(description="Not found."),
            409: OpenApiResponse(description="The person's data was erased."),
            422: OpenApiResponse(description="Invalid input, or an unknown customer."),
        },
        examples=[_REQUEST_EXAMPLE],
    )
    @idempotent
    def post(self, request):
        data = RequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        customer = person_of(self.client, values["customer"], in_path=False)
        state = request_file(
            RequestFiling(
                kind=values["kind"],
                customer_id=customer.pk,
                channel="storefront",
                vouched_by=f"api-client:{self.client.pk}",
                details=values["details"],
                requested_changes=values.get("requested_changes"),
                disclosure_form=values["disclosure_form"],
                language=values.get("language"),
            )
        )
        self.log_objects(customer.pk, state.reference)
        return Response(RequestOut(state).data, status=201)


class RequestDetailView(ApiView):
    scopes = {"GET": "requests:read"}
    action_name = "requests.read"

    @extend_schema(
        operation_id="requests_read",
        responses={200: RequestOut, 404: OpenApiResponse(description="Not found.")},
    )
    def get(self, request, reference: str):
        brought = ExternalCustomer.objects.filter(client=self.client).values("customer_id")
        state = request_state(reference=reference[:20], customer_ids=brought)
        if state is None:
            raise exceptions.NotFound(_("No request with this reference for this client."))
        self.log_objects(state.reference)
        return Response(RequestOut(state).data)


# ------------------------------------------------------------------ inquiries


class InquiryIn(serializers.Serializer):
    customer = serializers.CharField(
        max_length=100,
        required=False,
        help_text="Your id for the person, if they are one you sent (name and e-mail then "
        "default to ours).",
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    topic = serializers.ChoiceField(choices=Inquiry.Topic.choices)
    message = serializers.CharField(max_length=5000)


class InquiryOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField(help_text="When it was received.")


class InquiriesView(ApiView):
    scopes = {"POST": "requests:write"}
    action_name = "inquiries.create"

    @extend_schema(
        operation_id="inquiries_create",
        request=InquiryIn,
        responses={
            201: InquiryOut,
            409: OpenApiResponse(description="The person's data was erased."),
            422: OpenApiResponse(description="Invalid input, or an unknown customer."),
        },
        examples=[
            OpenApiExample(
                "From the contact form",
                value={
                    "name": "山田 花子",
                    "email": "hanako@example.com",
                    "topic": "order",
                    "message": "いつ届きますか",
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request):
        data = InquiryIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        customer = None
        name, email = values["name"].strip(), values["email"]
        if values.get("customer"):
            customer = person_of(self.client, values["customer"], in_path=False)
            name, email = name or customer.full_name, email or customer.email
        missing = {
            field: [_("This field is required.")]
            for field, value in (("name", name), ("email", email))
            if not value
        }
        if missing:
            raise exceptions.ValidationError(missing)
        inquiry = inquiry_create(
            name=name,
            email=email,
            phone=values["phone"],
            topic=values["topic"],
            message=values["message"],
            customer=customer,
        )
        self.log_objects(inquiry.pk)
        return Response(InquiryOut(inquiry).data, status=201)


# ------------------------------------------------------------------ the privacy-center link


class PrivacyLinkOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="Send the member's browser here; it works once.")
    expires_at = serializers.DateTimeField()


def _with_url(handler):
    """Add the link's URL to the answer after ``@idempotent`` has stored it, so the stored
    answer holds the link's id only; a replay derives the same URL again."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        response = handler(view, request, *args, **kwargs)
        if response.status_code == 201:
            link = PrivacyLink.objects.get(pk=response.data["id"], client=view.client)
            url = settings.SITE_URL.rstrip("/") + privacy_link_path(link=link)
            response.data = {**response.data, "url": url}
        return response

    return wrapper


class PrivacyLinkView(ApiView):
    scopes = {"POST": "requests:write"}
    action_name = "customers.privacy_link"

    @extend_schema(
        operation_id="customers_privacy_link",
        request=None,
        responses={
            201: PrivacyLinkOut,
            404: OpenApiResponse(description="This client sent no customer with this id."),
            409: OpenApiResponse(description="The person's data was erased."),
        },
    )
    @_with_url
    @idempotent
    def post(self, request, external_id: str):
        customer = person_of(self.client, external_id, in_path=True)
        link = privacy_link_issue(client=self.client, customer=customer)
        self.log_objects(customer.pk, link.pk)
        return Response(
            {
                "id": link.pk,
                "expires_at": serializers.DateTimeField().to_representation(link.expires_at),
            },
            status=201,
        )


# Included by apps/integration/api/urls.py.
urlpatterns = [
    path("requests/", RequestsView.as_view(), name="requests"),
    path("requests/<text:reference>/", RequestDetailView.as_view(), name="request"),
    path("inquiries/", InquiriesView.as_view(), name="inquiries"),
    path(
        "customers/<text:external_id>/privacy-link",
        PrivacyLinkView.as_view(),
        name="privacy_link",
    ),
]
