"""A local HTTP server that speaks Polygon's and Alpaca's historical REST wire formats.

It serves a ``Tape`` (canonical rows: int nanosecond times, floats, codes) the way the
providers document it: Polygon v2 aggregates and v3 trades/quotes with absolute
``next_url`` links on the real host and opaque cursors, ``results`` left out when empty,
the key from ``Authorization: Bearer`` or ``apiKey``; Alpaca v2 multi-symbol maps sorted
by symbol then time, ``next_page_token`` (null on the last page), both ``APCA-*`` headers
required, RFC 3339 times with trailing zeros of the fraction trimmed. Bodies are gzipped
when the client accepts it. Faults (statuses with headers, connections dropped mid-body,
malformed bodies) can be queued per path prefix. Tests and ``bench/provider_parse.py``
point the clients, ours and the official SDKs alike, at it.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from tests.serving import threaded

POLYGON_KEY = "pk-test-0123456789abcdef"
ALPACA_KEY_ID = "PKTEST000000000000"
ALPACA_SECRET = "secretsecretsecretsecretsecretsecret0000"
REAL_HOST = "https://api.massive.com"
NEW_YORK = ZoneInfo("America/New_York")
NS = 1_000_000_000
MINUTE, DAY = 60 * NS, 86_400 * NS
SESSION_OPEN = 1_704_205_800 * NS  # 2024-01-02 14:30 UTC, 09:30 in New York
POLYGON_EXCHANGES = {11: "N", 4: "D", 12: "Q", 19: "V"}  # participant id -> letter code


@dataclass
class Tape:
    """Canonical rows per kind and symbol, oldest first. Trades and quotes are dicts with
    ``ts`` (int ns) and model-like fields; bars are keyed by timeframe (``1Min``/``1Day``)."""

    trades: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    quotes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bars: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)


def make_tape(symbols: list[str], *, trades: int, quotes: int, seed: int = 7) -> Tape:
    """Valid, varied rows: ns times, fractional sizes, trades with and without conditions."""
    rng = random.Random(seed)
    tape = Tape(bars={"1Min": {}, "1Day": {}})
    for number, symbol in enumerate(symbols):
        base = 100.0 + 50 * number
        ts = SESSION_OPEN
        rows = []
        for i in range(trades):
            ts += rng.randint(1, 40_000_000)
            exchange = rng.choice(list(POLYGON_EXCHANGES))
            price = round(base + rng.uniform(-1, 1), 2)
            conditions = rng.choice([[], [12], [12, 37], [37]])
            size = rng.choice([100.0, 3.0, 0.5, 250.0])
            rows.append(
                {"ts": ts, "price": price, "size": size, "exchange": exchange, "id": str(i + 1)}
                | {"conditions": conditions, "alpaca_id": 52_983_525_029_461 + i}
                | {"codes": rng.choice([["@"], ["@", "I"], ["@", "F", "T"]])}
            )
        tape.trades[symbol] = rows
        ts, quoted = SESSION_OPEN, []
        for _ in range(quotes):
            ts += rng.randint(1, 50_000_000)
            bid = round(base + rng.uniform(-1, 1), 2)
            quoted.append(
                {"ts": ts, "bid": bid, "ask": round(bid + rng.choice([0.01, 0.02, 0.05]), 2)}
                | {"bid_size": float(rng.randint(1, 9)), "ask_size": float(rng.randint(1, 9))}
            )
        tape.quotes[symbol] = quoted
        tape.bars["1Min"][symbol] = _bars(rng, base, SESSION_OPEN, MINUTE, 390)
        first_day = int(datetime(2024, 1, 2, tzinfo=NEW_YORK).timestamp()) * NS
        tape.bars["1Day"][symbol] = _bars(rng, base, first_day, DAY, 5)
    return tape


def _bars(
    rng: random.Random, base: float, first: int, step: int, count: int
) -> list[dict[str, Any]]:
    bars = []
    for i in range(count):
        low = round(base + rng.uniform(-2, 0), 2)
        high = round(low + rng.uniform(0.01, 3), 2)
        opened, closed = round(rng.uniform(low, high), 2), round(rng.uniform(low, high), 2)
        bars.append(
            {"ts": first + i * step, "open": opened, "high": high, "low": low, "close": closed}
            | {"volume": float(rng.randint(100, 50_000)), "vwap": round((low + high) / 2, 4)}
            | {"trades": rng.randint(1, 900)}
        )
    return bars


def rfc3339(ns: int) -> str:
    """Alpaca's rendering: UTC, ``Z``, the fraction's trailing zeros trimmed."""
    seconds, fraction = divmod(ns, NS)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{fraction:09d}".rstrip("0")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


@dataclass
class Reply:
    """A canned answer: a status with a JSON (or raw) body and headers."""

    status: int
    body: dict[str, Any] | bytes = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Drop:
    """Send the real page's headers and half its body, then close the connection."""


Fault = Reply | Drop


@dataclass
class Seen:
    """A request as the server received it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


class WireServer:
    """The server, its tape, queued faults and the requests it has seen."""

    def __init__(self, tape: Tape, *, compress: bool = True) -> None:
        self.tape = tape
        self.compress = compress
        self.requests: list[Seen] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.always: dict[str, Fault] = {}
        self.cache: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def inject(self, prefix: str, *faults: Fault) -> None:
        """Answer the next requests under ``prefix`` with ``faults``, one each, in order."""
        with self.lock:
            self.faults.setdefault(prefix, deque()).extend(faults)

    def fail_always(self, prefix: str, fault: Fault) -> None:
        """Answer every request under ``prefix`` with ``fault``."""
        self.always[prefix] = fault

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for prefix, queued in self.faults.items():
                if path.startswith(prefix) and queued:
                    return queued.popleft()
        return next((f for p, f in self.always.items() if path.startswith(p)), None)

    def answer(
        self, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """Status and JSON body of a request (pages are rendered once, then cached)."""
        key = (path, json.dumps(sorted(query.items())))
        cached = self.cache.get(key)
        if cached is not None and _authorized(path, query, headers):
            return cached
        status, body = _route(self.tape, path, query, headers)
        if status == 200:
            self.cache[key] = (status, body)
        return status, body


@contextmanager
def serving(tape: Tape, *, compress: bool = True) -> Iterator[WireServer]:
    """A running server on 127.0.0.1 and a free port."""
    server = WireServer(tape, compress=compress)
    with threaded(server.httpd):
        yield server


def _handler(server: WireServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with server.lock:
                server.requests.append(Seen(parts.path, query, headers))
            fault = server.fault_for(parts.path)
            if isinstance(fault, Reply):
                raw = (
                    fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
                )
                self._send(fault.status, raw, fault.headers)
                return
            status, body = server.answer(parts.path, query, headers)
            self._send(status, body, {}, drop=isinstance(fault, Drop))

        def _send(
            self, status: int, body: bytes, extra: dict[str, str], drop: bool = False
        ) -> None:
            gzipped = server.compress and "gzip" in self.headers.get("Accept-Encoding", "")
            if gzipped and len(body) > 256:
                body = gzip.compress(body, compresslevel=1)
                extra = {**extra, "Content-Encoding": "gzip"}
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if drop:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


AGGS = re.compile(r"^/v2/aggs/ticker/([^/]+)/range/(\d+)/(\w+)/([^/]+)/([^/]+)$")
TICKS = re.compile(r"^/v3/(trades|quotes)/([^/]+)$")
ALPACA = re.compile(r"^/v2/stocks/(bars|trades|quotes)$")


def _json(status: int, payload: dict[str, Any]) -> tuple[int, bytes]:
    return status, json.dumps(payload, separators=(",", ":")).encode()


def _authorized(path: str, query: dict[str, str], headers: dict[str, str]) -> bool:
    if path.startswith("/v2/stocks/"):
        return (
            headers.get("apca-api-key-id") == ALPACA_KEY_ID
            and headers.get("apca-api-secret-key") == ALPACA_SECRET
        )
    bearer = headers.get("authorization", "").removeprefix("Bearer ")
    return POLYGON_KEY in (bearer, query.get("apiKey"))


def _route(
    tape: Tape, path: str, query: dict[str, str], headers: dict[str, str]
) -> tuple[int, bytes]:
    if match := ALPACA.match(path):
        if not _authorized(path, query, headers):
            return _json(401, {"code": 40110000, "message": "request is not authorized"})
        return _alpaca(tape, match.group(1), query)
    if not _authorized(path, query, headers):
        given = "authorization" in headers or "apiKey" in query
        error = "Unknown API Key" if given else "API Key was not provided"
        return _json(401, {"status": "ERROR", "request_id": "r401", "error": error})
    if match := AGGS.match(path):
        return _aggs(tape, match.groups(), query)
    if match := TICKS.match(path):
        return _ticks(tape, match.group(1), match.group(2), path, query)
    return _json(404, {"status": "NOT_FOUND", "request_id": "r404", "message": "Not found"})


def _cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _uncursor(text: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return state


def _day_ns(text: str, *, end: bool) -> int:
    day = date.fromisoformat(text)
    moment = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK) + timedelta(days=int(end))
    return int(moment.timestamp()) * NS - int(end)


def _aggs(tape: Tape, groups: tuple[str, ...], query: dict[str, str]) -> tuple[int, bytes]:
    ticker, multiplier, timespan, low, high = groups
    names = {("1", "minute"): "1Min", ("1", "day"): "1Day"}
    if (multiplier, timespan) not in names:
        return _json(400, {"status": "ERROR", "request_id": "r400", "error": "unsupported range"})
    first = int(low) * 1_000_000 if low.isdigit() else _day_ns(low, end=False)
    last = int(high) * 1_000_000 if high.isdigit() else _day_ns(high, end=True)
    rows = [
        b
        for b in tape.bars[names[multiplier, timespan]].get(ticker, [])
        if first <= b["ts"] <= last
    ]
    offset = _uncursor(query["cursor"])["o"] if "cursor" in query else 0
    limit = min(int(query.get("limit", 5000)), 50_000)
    page = rows[offset : offset + limit]
    results = [
        {"v": b["volume"], "vw": b["vwap"], "o": b["open"], "c": b["close"], "h": b["high"]}
        | {"l": b["low"], "t": b["ts"] // 1_000_000, "n": b["trades"]}
        for b in page
    ]
    payload: dict[str, Any] = {"ticker": ticker, "queryCount": len(page), "resultsCount": len(page)}
    payload |= {
        "adjusted": query.get("adjusted", "true") == "true",
        "status": "OK",
        "request_id": "ra",
    }
    if results:
        payload["results"] = results
    if offset + limit < len(rows):
        filters = "&".join(f"{k}={v}" for k, v in query.items() if k != "cursor")
        path = f"/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{low}/{high}"
        payload["next_url"] = f"{REAL_HOST}{path}?cursor={_cursor({'o': offset + limit})}&{filters}"
    return _json(200, payload)


def _ns_filter(query: dict[str, str]) -> tuple[int, int]:
    """The [low, high] nanosecond bounds of Polygon's timestamp filters."""

    def value(name: str, end: bool) -> int | None:
        text = query.get(name)
        if text is None:
            return None
        return int(text) if text.isdigit() else _day_ns(text, end=end)

    low, high = 0, 2**63 - 1
    if (v := value("timestamp.gte", False)) is not None:
        low = v
    if (v := value("timestamp.gt", False)) is not None:
        low = v + 1
    if (v := value("timestamp.lte", True)) is not None:
        high = v
    if (v := value("timestamp.lt", False)) is not None:
        high = v - 1
    return low, high


def _ticks(
    tape: Tape, kind: str, ticker: str, path: str, query: dict[str, str]
) -> tuple[int, bytes]:
    state = _uncursor(query["cursor"]) if "cursor" in query else {"q": query, "o": 0}
    filters, offset = state["q"], state["o"]
    low, high = _ns_filter(filters)
    rows = [r for r in getattr(tape, kind).get(ticker, []) if low <= r["ts"] <= high]
    if filters.get("order", "desc") == "desc":
        rows = rows[::-1]
    limit = min(int(filters.get("limit", 1000)), 50_000)
    page = rows[offset : offset + limit]
    results = [(_polygon_trade if kind == "trades" else _polygon_quote)(r) for r in page]
    payload: dict[str, Any] = {"status": "OK", "request_id": f"r{offset}"}
    if results:
        payload["results"] = results
    if offset + limit < len(rows):
        payload["next_url"] = (
            f"{REAL_HOST}{path}?cursor={_cursor({'q': filters, 'o': offset + limit})}"
        )
    return _json(200, payload)


def _polygon_trade(r: dict[str, Any]) -> dict[str, Any]:
    trade = {"exchange": r["exchange"], "id": r["id"], "participant_timestamp": r["ts"] - 1500}
    trade |= {"price": r["price"], "sequence_number": 1000 + int(r["id"]), "sip_timestamp": r["ts"]}
    trade |= {"size": r["size"], "tape": 3}
    if r["conditions"]:
        trade["conditions"] = r["conditions"]
    return trade


def _polygon_quote(r: dict[str, Any]) -> dict[str, Any]:
    quote = {"ask_exchange": 12, "ask_price": r["ask"], "ask_size": r["ask_size"]}
    quote |= {"bid_exchange": 11, "bid_price": r["bid"], "bid_size": r["bid_size"]}
    quote |= {"indicators": [604], "participant_timestamp": r["ts"] - 700}
    return quote | {"sequence_number": 7, "sip_timestamp": r["ts"], "tape": 3}


RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def _rfc_ns(text: str, *, end: bool) -> int:
    """Nanoseconds of an RFC 3339 time, or of a day's start (or last instant, as an end)."""
    if len(text) == 10:
        return _day_ns(text, end=end)
    match = RFC3339.match(text)
    if match is None:
        raise ValueError(text)
    whole, digits, zone = match.groups()
    moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return int(moment.timestamp()) * NS + int((digits or "").ljust(9, "0"))


def _alpaca(tape: Tape, kind: str, query: dict[str, str]) -> tuple[int, bytes]:
    if not query.get("symbols"):
        return _json(400, {"code": 40010001, "message": "symbols is required"})
    limit = int(query.get("limit", 1000))
    if not 1 <= limit <= 10_000:
        return _json(400, {"code": 42210000, "message": "invalid limit: must be 1..10000"})
    if kind == "bars":
        source = tape.bars.get(query.get("timeframe", ""))
        if source is None:
            return _json(400, {"message": "invalid timeframe"})
    else:
        source = getattr(tape, kind)
    low = _rfc_ns(query["start"], end=False) if "start" in query else 0
    high = _rfc_ns(query["end"], end=True) if "end" in query else 2**63 - 1
    rows = [
        (symbol, r)
        for symbol in sorted(set(query["symbols"].split(",")))
        for r in source.get(symbol, [])
        if low <= r["ts"] <= high
    ]
    offset = _uncursor(query["page_token"])["o"] if query.get("page_token") else 0
    grouped: dict[str, list[dict[str, Any]]] = {}
    for symbol, r in rows[offset : offset + limit]:
        grouped.setdefault(symbol, []).append(_ALPACA_ROWS[kind](r))
    more = offset + limit < len(rows)
    token = _cursor({"o": offset + limit}) if more else None
    return _json(200, {kind: grouped, "next_page_token": token})


_ALPACA_ROWS = {
    "bars": lambda b: (
        {"t": rfc3339(b["ts"]), "o": b["open"], "h": b["high"], "l": b["low"]}
        | {"c": b["close"], "v": b["volume"], "n": b["trades"], "vw": b["vwap"]}
    ),
    "trades": lambda r: (
        {"t": rfc3339(r["ts"]), "x": POLYGON_EXCHANGES[r["exchange"]]}
        | {"p": r["price"], "s": r["size"], "c": r["codes"], "i": r["alpaca_id"], "z": "C"}
    ),
    "quotes": lambda q: (
        {"t": rfc3339(q["ts"]), "ax": "Q", "ap": q["ask"], "as": q["ask_size"]}
        | {"bx": "V", "bp": q["bid"], "bs": q["bid_size"], "c": ["R"], "z": "C"}
    ),
}
