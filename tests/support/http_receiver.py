"""A local HTTP server in a thread that records what it is sent (webhook and robot tests):
it answers the statuses it is told to, in order, then 200 with `answer`."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses=(), answer: dict | None = None):
        self.statuses = list(statuses)
        self.answer = answer if answer is not None else {"ok": True}
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):          # noqa: N802 - the http.server name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                          "json": json.loads(raw or b"null")})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                body = json.dumps(receiver.answer if status == 200 else {"error": "try later"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
