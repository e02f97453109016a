"""What drf-spectacular needs to describe the API: the key scheme, and the parameters and
answers the resource modules share."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

PROBLEM = OpenApiResponse(description="Problem details (RFC 9457).")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
)
EXTERNAL_ID_PATH = OpenApiParameter(
    "external_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The client's id."
)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.integration.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's key, issued in the admin: `Authorization: Bearer spk_….…`",
        }
