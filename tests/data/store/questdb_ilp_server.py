"""A local HTTP server that answers the QuestDB client as an ILP/HTTP endpoint would and
keeps every ``/write`` body, plus a parser of line-protocol text for assertions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Capture:
    """What the server received."""

    port: int
    versions: list[int]
    bodies: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    reject: str | None = None

    @property
    def conf(self) -> str:
        return f"http::addr=127.0.0.1:{self.port};"

    def lines(self) -> list[Line]:
        return [parse_line(raw) for body in self.bodies for raw in split_lines(body.decode())]


@contextmanager
def ilp_server(versions: tuple[int, ...] = (1,)) -> Iterator[Capture]:
    """Serve on 127.0.0.1 until the block ends; ``versions`` are advertised at /settings."""
    capture = Capture(port=0, versions=list(versions))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def _reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            config = {"line.proto.support.versions": capture.versions}
            self._reply(200, json.dumps({"config": config}).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            capture.paths.append(self.path)
            if capture.reject:
                error = {"code": "invalid", "message": capture.reject, "line": 1, "errorId": "x"}
                self._reply(400, json.dumps(error).encode())
                return
            capture.bodies.append(body)
            self._reply(204, b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    capture.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield capture
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Line:
    """One parsed line: table, tags (ILP symbols), fields (raw text) and timestamp."""

    table: str
    tags: dict[str, str]
    fields: dict[str, str]
    ts: int


def split_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double quotes and not escaped by a backslash."""
    parts, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == '"':
            current += char
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _unescape(text: str) -> str:
    out, escaped = "", False
    for char in text:
        if escaped or char != "\\":
            out += char
            escaped = False
        else:
            escaped = True
    return out


def parse_line(raw: str) -> Line:
    """Parse ``table,tag=v field=v,field=v ts`` (ILP v1 text)."""
    head, body, ts = _split(raw, " ")
    table, *tags = _split(head, ",")
    return Line(
        table=_unescape(table),
        tags=dict(_kv(t) for t in tags),
        fields=dict(_kv(f) for f in _split(body, ",")),
        ts=int(ts.removesuffix("n")),
    )


def _kv(text: str) -> tuple[str, str]:
    key = _split(text, "=")[0]
    value = text[len(key) + 1 :]
    return _unescape(key), value if value.startswith('"') else _unescape(value)


def value(raw: str) -> str | int | float:
    """A field's Python value: ``"text"``, ``12i`` or a float."""
    if raw.startswith('"'):
        return _unescape(raw[1:-1])
    if raw.endswith("i"):
        return int(raw[:-1])
    return float(raw)
