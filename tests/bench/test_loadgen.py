"""apps.bench.loadgen's lean client: every answer read whole by its framing (Content-Length or
chunks), on one kept-alive connection per client, reopened when the server closes it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from apps.bench.loadgen import hammer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = 0
    bodies: list[bytes] = []

    def setup(self):
        type(self).connections += 1  # one handler per accepted connection
        super().setup()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        number = int(body)
        answer = b'{"ok": %d}' % number
        status = 201 if number % 2 else 422
        self.send_response(status)
        if number % 3 == 0:  # chunked, in two chunks
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(answer) // 2
            for part in (answer[:half], answer[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(answer)))
            if number % 10 == 7:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_every_answer_is_read_whole_on_kept_alive_connections():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        bodies = [str(i).encode() for i in range(1, 101)]
        result = hammer(
            port=server.server_address[1],
            path="/x",
            bodies=bodies,
            headers={"Content-Type": "application/json"},
            clients=2,
            timeout=30,
        )
    finally:
        server.shutdown()
        server.server_close()
    # Odd numbers are 201, even 422: a status read from the wrong answer would show.
    assert result.statuses == {201: 50, 422: 50}
    assert sorted(_Handler.bodies, key=int) == bodies
    # Kept alive: two clients, plus one new connection after each of the 10 closes.
    assert _Handler.connections <= 2 + 10
    assert result.client_cpu_seconds > 0
