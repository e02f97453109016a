"""Every API error as an RFC 9457 problem detail (``application/problem+json``).

``{"type", "title", "status", "detail"}`` plus ``errors`` for field errors (``{"field":
["message", ...]}``; items of a list are keyed by their index, e.g. ``"lines.0.quantity"``).
Status codes as meant: 400 a body that is not JSON, 401 no or a bad key, 403 a key without the
scope, 404 nothing of that id (for this client), 409 the state forbids it (an erased or
restricted person, a request in flight with the same key), 422 well-formed input that breaks a
rule (validation, a card number, a consent grant without evidence, an idempotency key reused for
a different request), 429 over the client's rate limit (with ``Retry-After``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

PROBLEM_TYPE_BASE = "https://shop-privacy.example/problems/"
CONTENT_TYPE = "application/problem+json"


class Conflict(exceptions.APIException):
    """409: the request is well-formed but the state of the thing forbids it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The current state of this resource does not allow this.")
    default_code = "conflict"


class Unprocessable(exceptions.ValidationError):
    """422 with a single message (no field)."""

    def __init__(self, detail, code: str = "invalid"):
        super().__init__({"non_field_errors": [detail]}, code=code)


_TITLES = {
    400: _("Malformed request"),
    401: _("Not authenticated"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Invalid input"),
    429: _("Too many requests"),
}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as flat ``{"a.0.b": [messages]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            if detail:
                out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    elif detail not in (None, ""):
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else exc.default_code


def problem(status_code: int, *, detail: str = "", code: str = "", errors=None, headers=None):
    body = {
        "type": f"{PROBLEM_TYPE_BASE}{code}" if code else "about:blank",
        "title": str(_TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=CONTENT_TYPE)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if not isinstance(exc, exceptions.APIException):
        return None  # a 500: Django's handler logs it

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        detail = (
            errors.pop("non_field_errors")[0]
            if list(errors) == ["non_field_errors"]
            else _("Some fields are not valid: see errors.")
        )
        if not errors and isinstance(exc.detail, dict) and "non_field_errors" in exc.detail:
            errors = {"non_field_errors": [str(detail)]}
        return problem(
            422, detail=detail, code=_code_of(exc), errors=errors or None, headers=headers
        )
    status_code = exc.status_code
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        status_code = 401
    return problem(status_code, detail=exc.detail, code=_code_of(exc), headers=headers)
