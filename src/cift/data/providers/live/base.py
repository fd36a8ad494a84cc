"""The live feed protocol, what it counts, and the repeats it drops."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import polars as pl

from cift.model import DataKind

FeedBatch = tuple[DataKind, pl.DataFrame]
"""Events of one kind in the model's schema (bars are of one minute)."""

EVENT_KEYS: dict[DataKind, tuple[str, ...]] = {
    DataKind.TRADES: ("symbol", "exchange", "trade_id"),
    DataKind.QUOTES: ("symbol", "ts", "bid", "ask", "bid_size", "ask_size"),
    DataKind.BARS: ("symbol", "ts"),
}
"""What identifies a live event, to drop repeats: trade ids are unique per exchange (a
trade's time may be in ms on the stream and in ns in the REST history)."""


@dataclass
class FeedCounters:
    """What a feed met: connections lost and rows fetched to fill the gaps."""

    reconnects: int = 0
    gap_rows: int = 0
    repeats: int = 0
    last_error: str | None = None


@runtime_checkable
class LiveFeed(Protocol):
    """A source of live trades, quotes and minute bars."""

    name: str
    kinds: frozenset[DataKind]
    counters: FeedCounters

    def events(self, symbols: Sequence[str], kinds: Sequence[DataKind]) -> AsyncIterator[FeedBatch]:
        """Batches of the subscribed kinds until cancelled (or the feed ends)."""
        ...

    def close(self) -> None:
        """Release what the feed holds (the REST client of its gap fills)."""
        ...


@dataclass
class Repeats:
    """Drops events already passed on, by each kind's identifying columns, remembering
    the most recent ``capacity`` keys of each kind."""

    keys: dict[DataKind, tuple[str, ...]]
    capacity: int = 500_000
    _seen: dict[DataKind, OrderedDict[tuple[object, ...], None]] = field(default_factory=dict)

    def fresh(self, kind: DataKind, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
        """The rows not seen before (first of repeats within the frame), and how many
        were dropped."""
        columns = list(self.keys[kind])
        unique = frame.unique(columns, keep="first", maintain_order=True)
        seen = self._seen.setdefault(kind, OrderedDict())
        rows = unique.select(columns).rows()
        keep = [row not in seen for row in rows]
        for row, new in zip(rows, keep, strict=True):
            if new:
                seen[row] = None
        while len(seen) > self.capacity:
            seen.popitem(last=False)
        fresh = unique.filter(pl.Series(keep, dtype=pl.Boolean)) if rows else unique
        return fresh, frame.height - fresh.height
