"""The ``synthetic`` provider: a seeded market simulator behind the provider protocol.

Trades, quotes and bars come from one simulated event stream per symbol and session,
so bars are exactly the aggregation of the trades, and a trade's quote is in the quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import numpy as np
import polars as pl

from cift.core.timeutil import to_ns
from cift.model import TS_DTYPE, DataKind, Timeframe

from ..base import RateLimit, check_range
from .config import SimulatorConfig
from .day import DayEvents, quote_sizes, simulate_day, trade_sizes
from .kernels import aggregate, combine
from .sessions import DAY_NS, Sessions, sessions_between
from .walk import daily_walk

BarArrays = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Bar open times, the (open, high, low, close, volume, vwap) matrix and trade counts."""
BAR_VALUES = ("open", "high", "low", "close", "volume", "vwap")


class SyntheticProvider:
    """Serves simulated trades, quotes and bars for any symbols and range."""

    name = "synthetic"
    kinds = frozenset(DataKind)
    rate_limit: RateLimit | None = None

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()

    def trades(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        return self._paged(symbols, start, end, self._trade_pages)

    def quotes(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        return self._paged(symbols, start, end, self._quote_pages)

    def bars(
        self, symbols: Sequence[str], start: datetime, end: datetime, timeframe: Timeframe
    ) -> Iterator[pl.DataFrame]:
        def pages(symbol: str, low: int, high: int) -> Iterator[pl.DataFrame]:
            return self._bar_pages(symbol, low, high, timeframe)

        return self._paged(symbols, start, end, pages)

    def close(self) -> None:
        """Nothing is held open."""

    def _paged(
        self,
        symbols: Sequence[str],
        start: datetime,
        end: datetime,
        pages: Callable[[str, int, int], Iterator[pl.DataFrame]],
    ) -> Iterator[pl.DataFrame]:
        """Frames of whole symbol-days gathered up to ``page_rows`` rows each."""
        check_range(start, end)
        low, high = to_ns(start), to_ns(end)
        sessions_between(self.config.calendar, low, high)  # bad calendar or range: fail now
        return _gather(
            (frame for symbol in symbols for frame in pages(symbol, low, high)),
            self.config.page_rows,
        )

    def _days(self, symbol: str, sessions: Sessions, indices: np.ndarray) -> Iterator[DayEvents]:
        """The simulated events of each session in ``indices``, in order."""
        if indices.size == 0:
            return
        anchor = int(np.datetime64(self.config.anchor, "D").astype(np.int64))
        last = max(int(sessions.labels[indices[-1]] // DAY_NS), anchor)
        walk = daily_walk(self.config, symbol, sessions.weekmask, last)
        price = self.config.price_for(symbol)
        for index in indices:
            day = int(sessions.labels[index] // DAY_NS)
            yield simulate_day(
                self.config,
                symbol,
                day,
                sessions.minutes(int(index)),
                walk,
                walk.open_level(day, anchor, price),
            )

    def _intraday(self, symbol: str, low: int, high: int) -> Iterator[DayEvents]:
        sessions = sessions_between(self.config.calendar, low, high)
        return self._days(symbol, sessions, sessions.overlapping(low, high))

    def _trade_pages(self, symbol: str, low: int, high: int) -> Iterator[pl.DataFrame]:
        for events in self._intraday(symbol, low, high):
            ts, price, size, side = self._trades_of(symbol, events)
            keep = (ts >= low) & (ts < high)
            prefix = str(np.datetime64(events.day, "D")).replace("-", "") + "-"
            ids = prefix + pl.Series(np.flatnonzero(keep)).cast(pl.String)
            yield _frame(
                symbol,
                ts[keep],
                price=price[keep],
                size=size[keep],
                side=side[keep],
                trade_id=ids,
                exchange=_constant(None, ids.len()),
                conditions=_constant(None, ids.len()),
            )

    def _quote_pages(self, symbol: str, low: int, high: int) -> Iterator[pl.DataFrame]:
        for events in self._intraday(symbol, low, high):
            bid_size, ask_size = quote_sizes(self.config, symbol, events.day, events.ts.shape[0])
            keep = (events.ts >= low) & (events.ts < high)
            yield _frame(
                symbol,
                events.ts[keep],
                bid=events.bid[keep],
                ask=events.ask[keep],
                bid_size=bid_size[keep],
                ask_size=ask_size[keep],
            )

    def _bar_pages(
        self, symbol: str, low: int, high: int, timeframe: Timeframe
    ) -> Iterator[pl.DataFrame]:
        """Bars aggregated from each day's trades; a window spanning two sessions is merged."""
        step = timeframe.nanos
        sessions = sessions_between(self.config.calendar, low, high + step)
        daily = step >= DAY_NS
        indices = (
            sessions.labelled(low, high + step) if daily else sessions.overlapping(low, high + step)
        )
        carry: BarArrays | None = None
        for events in self._days(symbol, sessions, indices):
            bars = self._day_bars(symbol, events, step, daily)
            if carry is not None:
                bars = combine(*(np.concatenate(pair) for pair in zip(carry, bars, strict=True)))
            if bars[0].shape[0] == 0:
                continue
            carry = (bars[0][-1:], bars[1][-1:], bars[2][-1:])
            yield _bar_frame(symbol, (bars[0][:-1], bars[1][:-1], bars[2][:-1]), low, high)
        if carry is not None:
            yield _bar_frame(symbol, carry, low, high)

    def _trades_of(
        self, symbol: str, events: DayEvents
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Time, price (the touch the aggressor took), size and side of the day's trades."""
        mask = events.trade_mask
        side = events.side[mask]
        price = np.where(side > 0, events.ask[mask], events.bid[mask])
        size = trade_sizes(self.config, symbol, events.day, side.shape[0])
        return events.ts[mask], price, size, side

    def _day_bars(self, symbol: str, events: DayEvents, step: int, daily: bool) -> BarArrays:
        ts, price, size, _ = self._trades_of(symbol, events)
        if daily:
            label = events.day * DAY_NS
            keys = np.full(ts.shape[0], label - label % step, dtype=np.int64)
        else:
            keys = ts - ts % step
        bars: BarArrays = aggregate(keys, price, size)
        return bars


def _bar_frame(symbol: str, bars: BarArrays, low: int, high: int) -> pl.DataFrame:
    times, values, counts = bars
    keep = (times >= low) & (times < high)
    columns = {name: values[keep, i] for i, name in enumerate(BAR_VALUES)}
    return _frame(symbol, times[keep], **columns, trades=counts[keep])


def _frame(symbol: str, ts: np.ndarray, **columns: np.ndarray | pl.Series) -> pl.DataFrame:
    """A frame of one symbol's rows: symbol, ts (ns since the epoch), then ``columns``."""
    return pl.DataFrame(
        [
            _constant(symbol, ts.shape[0]).alias("symbol"),
            pl.Series("ts", ts, dtype=pl.Int64).cast(TS_DTYPE),
            *(pl.Series(name, values) for name, values in columns.items()),
        ]
    )


def _constant(value: str | None, rows: int) -> pl.Series:
    """A text column holding ``value`` on every row."""
    return pl.Series([value], dtype=pl.String).new_from_index(0, rows)


def _gather(frames: Iterator[pl.DataFrame], page_rows: int) -> Iterator[pl.DataFrame]:
    """Concatenate consecutive frames into pages of at least ``page_rows`` rows (the last
    may be smaller); empty frames are dropped."""
    held: list[pl.DataFrame] = []
    rows = 0
    for frame in frames:
        if frame.height == 0:
            continue
        held.append(frame)
        rows += frame.height
        if rows >= page_rows:
            yield pl.concat(held)
            held, rows = [], 0
    if held:
        yield pl.concat(held)
