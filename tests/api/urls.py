"""The project's URLs plus one small resource used only by test_foundation.py, so the API's
ground rules are tested on their own, whatever the real resources do."""

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response

from apps.customers.models import Customer
from apps.integration.api.base import ApiView
from apps.integration.api.idempotency import idempotent
from config.urls import urlpatterns as project_urlpatterns


class _GuestIn(serializers.Serializer):
    family_name = serializers.CharField(max_length=100)


class GuestsForTests(ApiView):
    scopes = {"POST": "customers:write", "GET": "customers:write"}
    action_name = "tests.guests"

    @idempotent
    def post(self, request):
        data = _GuestIn(data=request.data)
        data.is_valid(raise_exception=True)
        customer = Customer.objects.create(
            family_name=data.validated_data["family_name"],
            acquired_via=Customer.AcquiredVia.PURCHASE,
        )
        self.log_objects(customer.pk)
        return Response({"id": customer.pk}, status=201)

    def get(self, request):
        return Response({"count": Customer.objects.count()})


urlpatterns = [
    path("api/v1/tests/guests/", GuestsForTests.as_view()),
    *project_urlpatterns,
]
