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

    def log_call(self, status_code: int) -> None:
        """Write this call's access-log row now, in the caller's transaction: a write that
        succeeds commits with its log row (one commit less a call). Should the answer turn out
        otherwise (a failure after this), ``finalize_response`` writes the row of that answer."""
        self._write_log(self.request, status_code)
        self._logged_status = status_code

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "_logged_status", None) != response.status_code:
            self._write_log(request, response.status_code)
        return response

    def _write_log(self, request, status_code: int) -> None:
        user = getattr(request, "_user", None)
        if isinstance(user, ClientPrincipal):
            ApiCallLog.objects.create(
                client_id=user.client.pk,
                action=f"{self.action_name or type(self).__name__}.{request.method.lower()}",
                object_ids=getattr(self, "_logged_ids", [])[:1000],
                status_code=status_code,
            )
