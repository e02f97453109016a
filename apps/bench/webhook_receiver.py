"""A webhook receiver for bench_webhooks, run as its own process (no Django):

    python -m apps.bench.webhook_receiver --port 8123 --secret whsec_... --fail 0.1 \
        --slow 0.02 --sleep 2.5

A threaded HTTP/1.1 server (keep-alive) on loopback that verifies every call's signature with
the Standard Webhooks library (401 when it does not verify), then answers 500 to a share of calls
(``--fail``), sleeps past the sender's timeout on another share (``--slow``: it then answers 200
and counts the event as acknowledged, as a slow receiver that did its work would), and 200 to the
rest. It keeps, per event id (the body's ``id``), whether it acknowledged it, and counts
deliveries of an event it had already acknowledged (duplicates). ``GET /stats`` answers its
figures as JSON."""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class State:
    def __init__(self, *, secret: str, fail: float, slow: float, sleep: float, seed: int):
        self.webhook = Webhook(secret)
        self.fail, self.slow, self.sleep = fail, slow, sleep
        self.random = random.Random(seed)  # noqa: S311 (which calls fail, not a secret)
        self.lock = threading.Lock()
        self.acknowledged: set[str] = set()
        self.calls = self.failed = self.slowed = self.bad_signatures = self.duplicates = 0

    def stats(self) -> dict:
        with self.lock:
            return {
                "calls": self.calls,
                "acknowledged": len(self.acknowledged),
                "duplicates": self.duplicates,
                "failed": self.failed,
                "slowed": self.slowed,
                "bad_signatures": self.bad_signatures,
            }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the senders open up to WEBHOOK_CONCURRENCY connections each

    def handle_error(self, request, client_address):
        pass  # a sender that gave up (its timeout) resets the connection: not news


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, code: int, body: bytes = b"") -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the sender gave up on us (its timeout)

        def do_GET(self):
            self._answer(200, json.dumps(state.stats()).encode())

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = state.webhook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError:
                with state.lock:
                    state.calls += 1
                    state.bad_signatures += 1
                self._answer(401)
                return
            with state.lock:
                state.calls += 1
                draw = state.random.random()
            if draw < state.fail:
                with state.lock:
                    state.failed += 1
                self._answer(500)
                return
            if draw < state.fail + state.slow:
                with state.lock:
                    state.slowed += 1
                time.sleep(state.sleep)
            with state.lock:
                if event["id"] in state.acknowledged:
                    state.duplicates += 1
                state.acknowledged.add(event["id"])
            self._answer(200)

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--fail", type=float, default=0.10)
    parser.add_argument("--slow", type=float, default=0.02)
    parser.add_argument("--sleep", type=float, default=2.5)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    state = State(
        secret=args.secret, fail=args.fail, slow=args.slow, sleep=args.sleep, seed=args.seed
    )
    server = Server(("127.0.0.1", args.port), make_handler(state))
    server.serve_forever()


if __name__ == "__main__":
    main()
