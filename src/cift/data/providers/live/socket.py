"""The WebSocket session every live provider shares: connect, authenticate and
subscribe through the provider's wire, pass its events on once each, and on a lost
connection reconnect with jittered exponential back-off and fill the gap from REST.

A refused key or plan (``FeedRefusedError``) ends the feed at once: retrying a bad
key only gets the account locked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl
import websockets
from loguru import logger
from websockets.asyncio.client import ClientConnection, connect

from cift.core.errors import CiftError, FeedDroppedError, FeedRefusedError
from cift.data.providers.base import MarketDataProvider, fetch
from cift.data.providers.live.base import FeedBatch, FeedCounters, Repeats
from cift.model import DataKind, Timeframe

MINUTE = Timeframe.parse("1m")
Message = str | bytes


class Wire(Protocol):
    """One provider's frames: how to open a session and what its messages mean."""

    name: str
    url: str
    kinds: frozenset[DataKind]
    keys: dict[DataKind, tuple[str, ...]]
    """The columns that identify an event of each kind (to drop repeats)."""

    def headers(self) -> dict[str, str]: ...

    async def open(
        self, socket: ClientConnection, symbols: Sequence[str], kinds: Sequence[DataKind]
    ) -> None:
        """Read the greeting, authenticate and subscribe; raise on a refusal."""
        ...

    def parse(self, message: Message) -> list[FeedBatch]:
        """The events of one message, by kind; raise on an error frame."""
        ...


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnects: exponential from ``first`` up to ``cap`` seconds, with
    full jitter so many clients do not reconnect in step."""

    first: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.first * 2**attempt))


class SocketFeed:
    """A live feed over a provider's WebSocket, with REST history to fill gaps."""

    def __init__(
        self,
        wire: Wire,
        *,
        history: MarketDataProvider | None = None,
        backoff: Backoff = Backoff(),
        seed: int | None = None,
        open_timeout: float = 10.0,
    ) -> None:
        self.wire = wire
        self.name = wire.name
        self.kinds = wire.kinds
        self.history = history
        self.backoff = backoff
        self.counters = FeedCounters()
        self.open_timeout = open_timeout
        self._rng = random.Random(seed)  # noqa: S311 (jitter, not a secret)
        self._repeats = Repeats(wire.keys)
        self._last: dict[DataKind, int] = {}

    async def events(
        self, symbols: Sequence[str], kinds: Sequence[DataKind]
    ) -> AsyncIterator[FeedBatch]:
        attempt = 0
        while True:
            try:
                async with connect(
                    self.wire.url,
                    additional_headers=self.wire.headers(),
                    open_timeout=self.open_timeout,
                    max_size=2**24,
                    close_timeout=2,
                ) as socket:
                    await self.wire.open(socket, symbols, kinds)
                    if self.counters.reconnects:
                        for batch in await asyncio.to_thread(self._gap, symbols, kinds):
                            yield batch
                    attempt = 0
                    async for message in socket:
                        for kind, frame in self.wire.parse(message):
                            passed = self._pass(kind, frame)
                            if passed is not None:
                                yield passed
            except FeedRefusedError:
                raise
            except (OSError, TimeoutError, websockets.WebSocketException, CiftError) as exc:
                self.counters.last_error = str(exc) or type(exc).__name__
                logger.warning("{} feed lost ({}); reconnecting", self.name, exc)
            # A server that closes cleanly (code 1000) ends the loop above too.
            self.counters.reconnects += 1
            await asyncio.sleep(self.backoff.delay(attempt, self._rng))
            attempt += 1

    def close(self) -> None:
        if self.history is not None:
            self.history.close()

    def _pass(self, kind: DataKind, frame: pl.DataFrame) -> FeedBatch | None:
        fresh, dropped = self._repeats.fresh(kind, frame)
        self.counters.repeats += dropped
        if fresh.is_empty():
            return None
        newest = fresh.select(pl.col("ts").dt.epoch("ns").max()).item()
        self._last[kind] = max(self._last.get(kind, newest), newest)
        return kind, fresh

    def _gap(self, symbols: Sequence[str], kinds: Sequence[DataKind]) -> list[FeedBatch]:
        """What REST history holds since the last event of each kind (repeats dropped)."""
        if self.history is None:
            return []
        batches: list[FeedBatch] = []
        now = datetime.now(UTC)
        for kind in kinds:
            last = self._last.get(kind)
            if last is None or kind not in self.history.kinds:
                continue
            start = datetime.fromtimestamp(last // 1_000_000_000, UTC)
            options: dict[str, Any] = {"timeframe": MINUTE} if kind is DataKind.BARS else {}
            try:
                pages = list(fetch(self.history, kind, symbols, start, now, **options))
            except CiftError as exc:
                logger.warning("{} gap fill of {} failed: {}", self.name, kind.value, exc)
                continue
            for page in pages:
                batch = self._pass(kind, page)
                if batch is not None:
                    self.counters.gap_rows += batch[1].height
                    batches.append(batch)
        return batches


async def next_frame(socket: ClientConnection, wait_seconds: float) -> Message:
    """The next message, or a retryable error if none comes in ``wait_seconds``."""
    try:
        return await asyncio.wait_for(socket.recv(), wait_seconds)
    except TimeoutError:
        raise FeedDroppedError(f"The feed sent nothing for {wait_seconds:.0f} s.") from None
