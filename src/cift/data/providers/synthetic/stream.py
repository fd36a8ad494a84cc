"""The ``synthetic`` live feed: the simulator's sessions played as a live stream.

Simulated time runs ``speed`` times faster than the wall clock over trading time only
(a session's close is followed by the next session's open), from ``start`` (default:
the open of the latest session that has begun). ``speed=1`` is real time; ``speed=0``
plays as fast as the consumer takes it. The events are exactly the simulator's for
those sessions (seeded), so a stream can be checked against ``cift data backfill``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.timeutil import from_ns, to_ns
from cift.model import DataKind

from ..live.base import FeedBatch, FeedCounters
from .config import SimulatorConfig
from .provider import SyntheticProvider
from .sessions import DAY_NS, MINUTE_NS, sessions_between

LIVE_KINDS = frozenset({DataKind.TRADES, DataKind.QUOTES})
MONTH_NS = 30 * DAY_NS
SLICE_ROWS = 50_000
"""Rows per batch when unpaced (``speed=0``)."""


class SyntheticFeed:
    """Simulated sessions, paced by the wall clock."""

    name = "synthetic"
    kinds = LIVE_KINDS

    def __init__(
        self,
        provider: SyntheticProvider,
        *,
        start: datetime | None = None,
        speed: float = 60.0,
        tick_seconds: float = 0.1,
    ) -> None:
        if speed < 0 or tick_seconds <= 0:
            raise ValidationError("The synthetic feed needs speed >= 0 and tick > 0.")
        self.provider = provider
        self.begin_ns = to_ns(start) if start is not None else latest_open(provider, time.time_ns())
        # The first calendar a process builds imports exchange-calendars and pandas (a
        # second or more), and the simulator's kernels load from the cache (or compile, on
        # a new install): both done here, so a caller's clock (--duration) times the feed.
        sessions_between(provider.config.calendar, self.begin_ns, self.begin_ns + MONTH_NS)
        _simulate_once(provider, self.begin_ns)
        self.speed = speed
        self.tick_seconds = tick_seconds
        self.counters = FeedCounters()

    async def events(
        self, symbols: Sequence[str], kinds: Sequence[DataKind]
    ) -> AsyncIterator[FeedBatch]:
        wanted = [k for k in kinds if k in LIVE_KINDS]
        if not wanted:
            raise ValidationError(
                "The synthetic feed streams trades and quotes (bars: the bars stage)."
            )
        begin = self.begin_ns
        for open_ns, close_ns in sessions_from(self.provider, begin):
            first = max(open_ns, begin)
            day = {
                k: await asyncio.to_thread(self._day, k, symbols, first, close_ns) for k in wanted
            }
            async for batch in self._play(day, first, close_ns):
                yield batch

    def close(self) -> None:
        """Nothing is held open."""

    def _day(self, kind: DataKind, symbols: Sequence[str], low: int, high: int) -> pl.DataFrame:
        """A session's events of ``kind`` from ``low``, in time order."""
        pages = self.provider.trades if kind is DataKind.TRADES else self.provider.quotes
        frames = list(pages(symbols, from_ns(low), from_ns(high)))
        if not frames:
            return pl.DataFrame()
        return pl.concat(frames).sort("ts", "symbol", maintain_order=True)

    async def _play(
        self, day: dict[DataKind, pl.DataFrame], low: int, high: int
    ) -> AsyncIterator[FeedBatch]:
        times = {
            k: f.get_column("ts").dt.epoch("ns").to_numpy() for k, f in day.items() if f.height
        }
        cursors = dict.fromkeys(times, 0)
        wall0, shown = time.monotonic(), low
        while shown < high and any(cursors[k] < len(times[k]) for k in times):
            if self.speed == 0:
                nxt = min(
                    times[k][min(cursors[k] + SLICE_ROWS, len(times[k]) - 1)]
                    for k in times
                    if cursors[k] < len(times[k])
                )
                shown = int(nxt) + 1
            else:
                await asyncio.sleep(self.tick_seconds)
                shown = low + int((time.monotonic() - wall0) * self.speed * 1e9)
            for kind, ts in times.items():
                end = int(np.searchsorted(ts, shown, side="left"))
                if end > cursors[kind]:
                    yield kind, day[kind].slice(cursors[kind], end - cursors[kind])
                    cursors[kind] = end
            if self.speed == 0:
                await asyncio.sleep(0)


def _simulate_once(provider: SyntheticProvider, begin: int) -> None:
    """One minute of one symbol's first session from ``begin``, thrown away: the kernels
    a session's events need are ready afterwards."""
    opened, _ = next(sessions_from(provider, begin))
    for _ in provider.trades(["WARMUP"], from_ns(opened), from_ns(opened + MINUTE_NS)):
        pass


def latest_open(provider: SyntheticProvider, now_ns: int) -> int:
    """The open of the latest session that has begun by ``now_ns``."""
    sessions = sessions_between(provider.config.calendar, now_ns - MONTH_NS, now_ns)
    begun = sessions.opens[(sessions.opens <= now_ns) & (sessions.opens > 0)]
    return int(begun.max())


def sessions_from(provider: SyntheticProvider, begin: int) -> Iterator[tuple[int, int]]:
    """``(open, close)`` of each session that ends after ``begin``, in order, forever."""
    low, last = begin, -1
    while True:
        high = low + MONTH_NS
        sessions = sessions_between(provider.config.calendar, low, high)
        for index in sessions.overlapping(low, high):
            opened = int(sessions.opens[index])
            if opened > last:  # a session across ``high`` is met again next month
                last = opened
                yield opened, int(sessions.closes[index])
        low = high


def create_feed(settings: Settings, **options: Any) -> SyntheticFeed:
    """The simulator's stream; ``start``, ``speed`` and ``tick_seconds`` pace it, other
    options are the simulator's (see ``SimulatorConfig``)."""
    del settings
    pacing = {k: options.pop(k) for k in ("start", "speed", "tick_seconds") if k in options}
    return SyntheticFeed(SyntheticProvider(SimulatorConfig.from_options(options)), **pacing)
