"""config/wsgi.py: the API and the providers' webhooks are served with ``API_MIDDLEWARE`` (no
sessions, CSRF, cookies or HTML page policy), the site with its full middleware. Called through
the WSGI application itself, as gunicorn calls it (the test client builds its own handler)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.api.test_orders import order_body

pytestmark = pytest.mark.django_db


def wsgi_call(path, *, method="GET", body=b"", headers=None):
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        **{
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in (headers or {}).items()
        },
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = {name.lower(): value for name, value in response_headers}

    # As Django's test client does: the test's transaction must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        content = b"".join(chunks)
        chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


def test_the_api_answers_in_the_callers_language_without_the_sites_middleware(make_api):
    _row, http = make_api(scopes=["orders:write"])
    status, headers, content = wsgi_call(
        "/api/v1/orders/",
        method="POST",
        body=json.dumps(order_body(customer="never-sent")).encode(),
        headers={"Authorization": f"Bearer {http.key}", "Accept-Language": "ja"},
    )
    assert status == 422, content
    assert "未登録の顧客です" in content.decode()
    assert headers["content-language"] == "ja"
    # SecurityMiddleware stays; the page policy, cookies and sessions are not the API's.
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in headers
    assert "set-cookie" not in headers
    assert "Cookie" not in headers.get("vary", "")


def test_the_sites_pages_keep_their_full_middleware():
    status, headers, _content = wsgi_call("/", headers={"Accept-Language": "ja"})
    assert status < 500
    assert "content-security-policy" in headers
    assert headers["x-frame-options"] == "DENY"
    assert "Cookie" in headers.get("vary", "")


def test_the_webhook_paths_take_the_short_list_too():
    status, headers, _content = wsgi_call("/integrations/shopify/webhooks/", method="POST")
    assert status in (400, 401, 403)  # unsigned: refused, and not by CSRF's HTML page
    assert "content-security-policy" not in headers
