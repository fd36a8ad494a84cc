"""A local WebSocket server that speaks Polygon's and Alpaca's documented stream frames.

Polygon: every frame a JSON array; ``connected`` on connect, ``auth`` answered with
``auth_success`` or ``auth_failed``, one ``success`` status per subscribed topic, then
arrays of ``T``/``Q``/``AM`` events (times in ms). Alpaca: ``success``/``connected``,
``auth`` with key and secret answered ``authenticated`` or error 402, a ``subscription``
frame with the full set, then arrays of ``t``/``q``/``b`` messages; MessagePack (times as
MessagePack timestamps) when the upgrade asks for it, else JSON with RFC 3339 times.

Each connection follows the next ``Plan``: the events to send (in frames of
``per_frame``), then what to do: stay open, drop the connection mid-burst, or send an
error frame. Events are rendered from the same ``Tape`` the REST server serves, so the
gap a dropped connection leaves can be filled from it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import msgpack
from websockets.asyncio.server import ServerConnection, serve

from tests.data.providers.wire import (
    ALPACA_KEY_ID,
    ALPACA_SECRET,
    POLYGON_EXCHANGES,
    POLYGON_KEY,
    rfc3339,
)

Dialect = Literal["polygon", "alpaca"]


@dataclass
class Plan:
    """What one connection does after the subscription is confirmed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    """Canonical trades (``symbol`` plus the tape's fields) to send, in order."""
    then: Literal["stay", "drop", "error"] = "stay"
    error: tuple[int, str] = (407, "slow client")
    per_frame: int = 7


@dataclass
class Seen:
    """What the clients did."""

    connections: int = 0
    auths: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    binary: list[bool] = field(default_factory=list)


class StreamServer:
    """Serves ``plans`` (one per connection; the last repeats) on 127.0.0.1."""

    def __init__(self, dialect: Dialect, plans: list[Plan]) -> None:
        self.dialect = dialect
        self.plans = plans
        self.seen = Seen()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = self._loop.create_future()
        async with serve(self._session, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    def __enter__(self) -> StreamServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    async def _session(self, socket: ServerConnection) -> None:
        number = self.seen.connections
        self.seen.connections += 1
        plan = self.plans[min(number, len(self.plans) - 1)]
        binary = (
            self.dialect == "alpaca"
            and socket.request is not None
            and socket.request.headers.get("Content-Type") == "application/msgpack"
        )
        self.seen.binary.append(binary)
        talk = _Talk(socket, binary)
        if not await (self._polygon_open if self.dialect == "polygon" else self._alpaca_open)(talk):
            return
        render = _polygon_trade if self.dialect == "polygon" else _alpaca_trade
        events = [render(e, binary) for e in plan.events]
        cut = len(events) // 2 if plan.then == "drop" else len(events)
        for start in range(0, cut, plan.per_frame):
            await talk.send(events[start : min(start + plan.per_frame, cut)])
        if plan.then == "drop":
            socket.transport.abort()  # mid-burst, without a close frame
            return
        if plan.then == "error":
            await talk.send([{"T": "error", "code": plan.error[0], "msg": plan.error[1]}])
            await socket.close()
            return
        await socket.wait_closed()

    async def _polygon_open(self, talk: _Talk) -> bool:
        await talk.send(
            [{"ev": "status", "status": "connected", "message": "Connected Successfully"}]
        )
        auth = await talk.receive()
        self.seen.auths.append(auth)
        if auth.get("params") != POLYGON_KEY:
            await talk.send(
                [{"ev": "status", "status": "auth_failed", "message": "authentication failed"}]
            )
            await talk.socket.close()
            return False
        await talk.send([{"ev": "status", "status": "auth_success", "message": "authenticated"}])
        subscribe = await talk.receive()
        self.seen.subscriptions.append(subscribe)
        for topic in str(subscribe["params"]).split(","):
            await talk.send(
                [{"ev": "status", "status": "success", "message": f"subscribed to: {topic}"}]
            )
        return True

    async def _alpaca_open(self, talk: _Talk) -> bool:
        await talk.send([{"T": "success", "msg": "connected"}])
        auth = await talk.receive()
        self.seen.auths.append(auth)
        if (auth.get("key"), auth.get("secret")) != (ALPACA_KEY_ID, ALPACA_SECRET):
            await talk.send([{"T": "error", "code": 402, "msg": "auth failed"}])
            await talk.socket.close()
            return False
        await talk.send([{"T": "success", "msg": "authenticated"}])
        subscribe = await talk.receive()
        self.seen.subscriptions.append(subscribe)
        current = {k: subscribe.get(k, []) for k in ("trades", "quotes", "bars")}
        await talk.send([{"T": "subscription", **current, "updatedBars": [], "dailyBars": []}])
        return True


@dataclass
class _Talk:
    socket: ServerConnection
    binary: bool

    async def send(self, items: list[dict[str, Any]]) -> None:
        await self.socket.send(
            msgpack.packb(items, datetime=False) if self.binary else json.dumps(items)
        )

    async def receive(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.socket.recv(), 10)
        body = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
        assert isinstance(body, dict)
        return body


def _polygon_trade(row: dict[str, Any], binary: bool) -> dict[str, Any]:
    del binary
    trade = {"ev": "T", "sym": row["symbol"], "x": row["exchange"], "i": row["id"], "z": 3}
    trade |= {"p": row["price"], "s": int(row["size"]) if row["size"] >= 1 else row["size"]}
    trade |= {"t": row["ts"] // 1_000_000, "q": 1000 + int(row["id"])}
    if row["conditions"]:
        trade["c"] = row["conditions"]
    return trade


def _alpaca_trade(row: dict[str, Any], binary: bool) -> dict[str, Any]:
    stamp: Any = msgpack.Timestamp.from_unix_nano(row["ts"]) if binary else rfc3339(row["ts"])
    trade = {
        "T": "t",
        "S": row["symbol"],
        "i": row["alpaca_id"],
        "x": POLYGON_EXCHANGES[row["exchange"]],
    }
    return trade | {"p": row["price"], "s": row["size"], "c": row["codes"], "t": stamp, "z": "C"}


@contextmanager
def streaming(dialect: Dialect, plans: list[Plan]) -> Iterator[StreamServer]:
    with StreamServer(dialect, plans) as server:
        yield server
