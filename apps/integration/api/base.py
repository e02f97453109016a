"""The base of every API view: key authentication, scopes, the client's rate limit, problem
details, and one access-log row per call (client id, action, object ids, status)."""

from __future__ import annotations

from rest_framework.views import APIView

from apps.integration.api.authentication import ApiKeyAuthentication, ClientPrincipal
from apps.integration.api.permissions import HasScope
from apps.integration.api.throttling import ClientRateThrottle
from apps.integration.models import ApiCallLog


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ClientRateThrottle]
    # The scope each method needs, e.g. {"POST": "orders:write"}.
    scopes: dict[str, str] = {}
    # The access log's name for what the call does, e.g. "orders.upsert".
    action_name = ""

    @property
    def client(self):
        return self.request.user.client

    def log_objects(self, *ids) -> None:
        """Name the objects this call touched, for the access log (ids only)."""
        self._logged_ids = [*getattr(self, "_logged_ids", []), *(str(i) for i in ids)]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)
        if isinstance(user, ClientPrincipal):
            ApiCallLog.objects.create(
                client_id=user.client.pk,
                action=f"{self.action_name or type(self).__name__}.{request.method.lower()}",
                object_ids=getattr(self, "_logged_ids", [])[:1000],
                status_code=response.status_code,
            )
        return response
