"""The ``polygon`` live feed: Polygon/Massive's stocks WebSocket.

Every server frame is a JSON array; status elements (``ev: "status"``) report the
connection, the authentication and each subscription, and may come at any time among
the events. Trades ``T`` and quotes ``Q`` carry SIP times in milliseconds, minute
aggregates ``AM`` their window start. The gap of a reconnect is filled from the REST
provider with the same key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl
from websockets.asyncio.client import ClientConnection

from cift.core.errors import ConfigurationError, FeedDroppedError, FeedRefusedError
from cift.core.settings import Settings, env_var
from cift.model import DataKind
from cift.model.schemas import conform
from cift.model.times import epoch_to_ts

from ..live.base import EVENT_KEYS
from ..live.socket import Message, SocketFeed, next_frame
from .parse import NS_PER_MS

CHANNELS = {DataKind.TRADES: "T", DataKind.QUOTES: "Q", DataKind.BARS: "AM"}
KINDS = {channel: kind for kind, channel in CHANNELS.items()}
ROWS: dict[DataKind, dict[str, pl.DataType]] = {
    DataKind.TRADES: {
        "sym": pl.String(),
        "t": pl.Int64(),
        "p": pl.Float64(),
        "s": pl.Float64(),
        "i": pl.String(),
        "x": pl.Int64(),
        "c": pl.List(pl.Int64()),
    },
    DataKind.QUOTES: {
        "sym": pl.String(),
        "t": pl.Int64(),
        "bp": pl.Float64(),
        "ap": pl.Float64(),
        "bs": pl.Float64(),
        "as": pl.Float64(),
    },
    DataKind.BARS: {
        "sym": pl.String(),
        "s": pl.Int64(),
        "o": pl.Float64(),
        "h": pl.Float64(),
        "l": pl.Float64(),
        "c": pl.Float64(),
        "v": pl.Float64(),
        "vw": pl.Float64(),
    },
}


def _ms(column: str) -> pl.Expr:
    return epoch_to_ts(pl.col(column), NS_PER_MS)


COLUMNS: dict[DataKind, dict[str, pl.Expr]] = {
    DataKind.TRADES: {
        "symbol": pl.col("sym"),
        "ts": _ms("t"),
        "price": pl.col("p"),
        "size": pl.col("s"),
        "side": pl.lit(0, pl.Int8),
        "trade_id": pl.col("i"),
        "exchange": pl.col("x").cast(pl.String),
        "conditions": pl.when(pl.col("c").list.len() > 0).then(
            pl.col("c").list.eval(pl.element().cast(pl.String)).list.join(",")
        ),
    },
    DataKind.QUOTES: {
        "symbol": pl.col("sym"),
        "ts": _ms("t"),
        "bid": pl.col("bp"),
        "ask": pl.col("ap"),
        "bid_size": pl.col("bs"),
        "ask_size": pl.col("as"),
    },
    DataKind.BARS: {
        "symbol": pl.col("sym"),
        "ts": _ms("s"),
        "open": pl.col("o"),
        "high": pl.col("h"),
        "low": pl.col("l"),
        "close": pl.col("c"),
        "volume": pl.col("v"),
        "vwap": pl.col("vw"),
    },
}


class PolygonWire:
    """Polygon's stocks cluster frames."""

    name = "polygon"
    kinds = frozenset(CHANNELS)
    keys = EVENT_KEYS

    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self._key = api_key
        self.timeout = timeout

    def headers(self) -> dict[str, str]:
        return {}

    async def open(
        self, socket: ClientConnection, symbols: Sequence[str], kinds: Sequence[DataKind]
    ) -> None:
        await self._expect(socket, {"connected"})
        await socket.send(json.dumps({"action": "auth", "params": self._key}))
        await self._expect(socket, {"auth_success"})
        topics = ",".join(f"{CHANNELS[k]}.{s}" for k in kinds for s in symbols)
        await socket.send(json.dumps({"action": "subscribe", "params": topics}))

    async def _expect(self, socket: ClientConnection, wanted: set[str]) -> None:
        """Read frames until a status in ``wanted``; refusals raise."""
        while True:
            for item in _elements(await next_frame(socket, self.timeout)):
                if item.get("ev") != "status":
                    continue
                status = item.get("status")
                if status in wanted:
                    return
                _check_status(item)

    def parse(self, message: Message) -> list[tuple[DataKind, pl.DataFrame]]:
        events: dict[DataKind, list[dict[str, Any]]] = {}
        for item in _elements(message):
            kind = KINDS.get(item.get("ev", ""))
            if kind is not None:
                events.setdefault(kind, []).append(item)
            elif item.get("ev") == "status":
                _check_status(item)
        return [(kind, _frame(kind, rows)) for kind, rows in events.items()]


def _elements(message: Message) -> list[dict[str, Any]]:
    try:
        body = json.loads(message)
    except ValueError as exc:
        raise FeedDroppedError(f"Polygon sent a frame that is not JSON ({exc}).") from None
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise FeedDroppedError("Polygon sent a frame that is not an array of objects.")
    return body


def _check_status(item: dict[str, Any]) -> None:
    status, message = item.get("status"), item.get("message", "")
    if status == "auth_failed" or (status == "error" and "auth" in str(message).lower()):
        raise FeedRefusedError(
            f"Polygon refused the key ({message or status}); check {env_var('polygon_api_key')}."
        )
    if status == "max_connections":
        raise FeedDroppedError(
            f"Polygon refused a second connection ({message}); close the other session."
        )
    if status == "error":
        raise FeedDroppedError(f"Polygon reported an error: {message or 'no message'}.")


def _frame(kind: DataKind, rows: list[dict[str, Any]]) -> pl.DataFrame:
    parsed = pl.from_dicts(rows, schema=ROWS[kind]).select(**COLUMNS[kind])
    return conform(parsed, kind).collect()


def create_feed(settings: Settings, **options: Any) -> SocketFeed:
    """The live feed with the REST provider (same key) to fill gaps."""
    from . import create

    if settings.polygon_api_key is None:
        raise ConfigurationError(
            f"Streaming from Polygon needs an API key: set {env_var('polygon_api_key')}."
        )
    wire = PolygonWire(settings.polygon_stream_url, settings.polygon_api_key.get_secret_value())
    return SocketFeed(wire, history=create(settings), **options)
