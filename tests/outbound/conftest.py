"""A real HTTP receiver on loopback (a threaded http.server speaking HTTP/1.1 keep-alive) whose
answers a test scripts, and a storefront system with its webhook endpoint."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.bench.kit import free_port


class Receiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list = []  # status codes (or ("sleep", seconds, code)) used in order
        self.default = 200
        self.lock = threading.Lock()
        self.port = free_port()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body,
                            "client": self.client_address,
                        }
                    )
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                if isinstance(answer, tuple):
                    _, seconds, answer = answer
                    time.sleep(seconds)
                payload = b"ok"
                try:
                    self.send_response(answer)
                    if answer in (301, 302, 307):
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (a timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    return settings


def make_storefront(url: str, *, event_types=None, api_client=None, name="Storefront"):
    from apps.integration.outbound.models import DownstreamSystem
    from apps.integration.outbound.services import webhook_endpoint_create

    system = DownstreamSystem.objects.create(
        name=name,
        kind=DownstreamSystem.Kind.STOREFRONT,
        reached_by=DownstreamSystem.Reach.WEBHOOK,
        data_categories=["identity", "contact", "consents"],
        api_client=api_client,
    )
    endpoint, secret = webhook_endpoint_create(
        system=system,
        url=url,
        event_types=event_types or ["consent.changed", "subscription.changed"],
    )
    return endpoint, secret


@pytest.fixture
def storefront(db, receiver, loopback_allowed):
    """(endpoint, secret) of a storefront that wants consent and subscription changes."""
    return make_storefront(receiver.url)
