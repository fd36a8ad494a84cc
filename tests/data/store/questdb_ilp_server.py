"""A local ILP/HTTP endpoint that fails on purpose, for faults a healthy QuestDB never shows:
it answers ``/settings`` like QuestDB, then refuses every write (``reject``) or drops the
connection half-way through reading it (``drop``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

from tests.serving import threaded

Fault = Literal["reject", "drop"]


@dataclass
class FaultyEndpoint:
    """Where the endpoint listens and how many writes it failed."""

    port: int
    fault: Fault
    failed: list[str] = field(default_factory=list)

    @property
    def conf(self) -> str:
        # No retries: the client would otherwise retry a dropped request for 10 s.
        return f"http::addr=127.0.0.1:{self.port};retry_timeout=0;"


@contextmanager
def faulty_ilp_endpoint(fault: Fault, message: str = "cast error") -> Iterator[FaultyEndpoint]:
    """Serve on 127.0.0.1 until the block ends."""
    endpoint = FaultyEndpoint(port=0, fault=fault)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            config = {"line.proto.support.versions": [1, 2]}
            self._reply(200, json.dumps({"config": config}).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            endpoint.failed.append(self.path)
            if endpoint.fault == "drop":
                self.rfile.read(max(length // 2, 1))
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.rfile.read(length)
            error = {"code": "invalid", "message": message, "line": 1, "errorId": "x"}
            self._reply(400, json.dumps(error).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.port = int(server.server_address[1])
    with threaded(server):
        yield endpoint
