"""The ``alpaca`` live feed: Alpaca's stocks market-data WebSocket.

Control frames (``success``, ``error``, ``subscription``) come alone in an array of
one; data arrays mix trades ``t``, quotes ``q`` and minute bars ``b`` with the same keys
as the REST rows. Frames are MessagePack when asked for on the upgrade request (times
as MessagePack timestamps) or JSON (RFC 3339 times with nanoseconds). Error codes say
whether reconnecting can help: a refused key or plan ends the feed, a slow client or a
second session is retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgpack
import polars as pl
from websockets.asyncio.client import ClientConnection

from cift.core.errors import ConfigurationError, FeedDroppedError, FeedRefusedError
from cift.core.settings import Settings, env_var
from cift.model import TS_DTYPE, DataKind
from cift.model.schemas import conform
from cift.model.times import text_to_ts

from ..live.base import EVENT_KEYS
from ..live.socket import Message, SocketFeed, next_frame
from .parse import COLUMNS, RFC3339, ROWS

CHANNELS = {DataKind.TRADES: "trades", DataKind.QUOTES: "quotes", DataKind.BARS: "bars"}
TYPES = {"t": DataKind.TRADES, "q": DataKind.QUOTES, "b": DataKind.BARS}
FATAL = {
    402: "Alpaca refused the key id and secret",
    405: "The subscription exceeds the symbol limit of the plan",
    408: "This Alpaca account does not have the v2 stream enabled",
    409: "The plan does not include this feed",
    410: "This feed does not take that subscription",
}
RETRYABLE = {
    404: "Authentication timed out",
    406: "Alpaca refused a second session (connection limit exceeded); close the other one",
    407: "Alpaca dropped a slow client (it could not keep up)",
    500: "Alpaca reported an internal error",
}


class AlpacaWire:
    """Alpaca's stocks stream frames, in MessagePack or JSON."""

    name = "alpaca"
    kinds = frozenset(CHANNELS)
    keys = EVENT_KEYS

    def __init__(
        self, url: str, key_id: str, secret: str, *, msgpack: bool = True, timeout: float = 10.0
    ) -> None:
        self.url = url
        self._key_id, self._secret = key_id, secret
        self.msgpack = msgpack
        self.timeout = timeout

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/msgpack"} if self.msgpack else {}

    async def open(
        self, socket: ClientConnection, symbols: Sequence[str], kinds: Sequence[DataKind]
    ) -> None:
        await self._expect(socket, "success", "connected")
        await self._send(socket, {"action": "auth", "key": self._key_id, "secret": self._secret})
        await self._expect(socket, "success", "authenticated")
        channels = {CHANNELS[kind]: list(symbols) for kind in kinds}
        await self._send(socket, {"action": "subscribe", **channels})
        await self._expect(socket, "subscription")

    async def _send(self, socket: ClientConnection, body: dict[str, Any]) -> None:
        await socket.send(msgpack.packb(body) if self.msgpack else json.dumps(body))

    async def _expect(self, socket: ClientConnection, kind: str, msg: str | None = None) -> None:
        while True:
            for item in self._elements(await next_frame(socket, self.timeout)):
                _check_error(item)
                if item.get("T") == kind and (msg is None or item.get("msg") == msg):
                    return

    def _elements(self, message: Message) -> list[dict[str, Any]]:
        try:
            if isinstance(message, bytes):
                body = msgpack.unpackb(message, timestamp=2)  # times as int nanoseconds
            else:
                body = json.loads(message)
        except (ValueError, msgpack.UnpackException) as exc:
            raise FeedDroppedError(f"Alpaca sent a frame that cannot be read ({exc}).") from None
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise FeedDroppedError("Alpaca sent a frame that is not an array of objects.")
        return body

    def parse(self, message: Message) -> list[tuple[DataKind, pl.DataFrame]]:
        events: dict[DataKind, list[dict[str, Any]]] = {}
        for item in self._elements(message):
            kind = TYPES.get(item.get("T", ""))
            if kind is not None:
                events.setdefault(kind, []).append(item)
            else:
                _check_error(item)
        return [(kind, _frame(kind, rows)) for kind, rows in events.items()]


def _check_error(item: dict[str, Any]) -> None:
    if item.get("T") != "error":
        return
    code, said = item.get("code"), item.get("msg", "")
    if code in FATAL:
        hint = (
            f"; check {env_var('alpaca_api_key_id')} and {env_var('alpaca_api_secret_key')}"
            if code == 402
            else ""
        )
        raise FeedRefusedError(f"{FATAL[code]} (code {code}: {said}){hint}.")
    reason = RETRYABLE.get(code if isinstance(code, int) else 0, "Alpaca reported an error")
    raise FeedDroppedError(f"{reason} (code {code}: {said}).")


def _frame(kind: DataKind, rows: list[dict[str, Any]]) -> pl.DataFrame:
    binary = isinstance(rows[0].get("t"), int)  # MessagePack times arrive as int ns
    schema: dict[str, Any] = {"S": pl.String()}
    schema |= {field.name: field.dtype for field in ROWS[kind].fields}
    schema["t"] = pl.Int64() if binary else pl.String()
    ts = pl.col("t").cast(TS_DTYPE) if binary else text_to_ts(pl.col("t"), RFC3339)
    parsed = pl.from_dicts(rows, schema=schema).select(
        pl.col("S").alias("symbol"), ts.alias("ts"), **COLUMNS[kind]
    )
    return conform(parsed, kind).collect()


def create_feed(settings: Settings, **options: Any) -> SocketFeed:
    """The live feed of ``CIFT_ALPACA_FEED``, with the REST provider to fill gaps."""
    from . import create

    key_id, secret = settings.alpaca_api_key_id, settings.alpaca_api_secret_key
    if key_id is None or secret is None:
        raise ConfigurationError(
            f"Streaming from Alpaca needs {env_var('alpaca_api_key_id')} and "
            f"{env_var('alpaca_api_secret_key')}."
        )
    wire = AlpacaWire(
        f"{settings.alpaca_stream_url.rstrip('/')}/{settings.alpaca_feed}",
        key_id.get_secret_value(),
        secret.get_secret_value(),
        msgpack=settings.alpaca_stream_msgpack,
    )
    return SocketFeed(wire, history=create(settings), **options)
