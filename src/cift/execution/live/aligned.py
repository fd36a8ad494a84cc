"""Bars released in time order across symbols, as the backtest engine walks them.

The live bars stage closes each symbol's windows on that symbol's own event time, so
one symbol's 10:05 bar can arrive before another's 10:04. The backtest processes every
bar of 10:04 before any of 10:05, and a strategy's sizing reads the cash that other
symbols' orders use; so the runner holds bars until every symbol has reached their time
(a symbol silent for ``idle_seconds`` of wall time is not waited for).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import polars as pl

IDLE_SECONDS = 10.0


class TimeAligner:
    """Holds bars back until each symbol's newest bar is at least as late."""

    def __init__(
        self,
        symbols: Sequence[str],
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        started = clock()
        self._heard = dict.fromkeys(symbols, started)
        self._newest: dict[str, int] = {}
        self._held: list[pl.DataFrame] = []

    def add(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Take a batch; the bars every symbol has now passed, oldest first."""
        if bars.height:
            self._held.append(bars)
            now = self._clock()
            latest = bars.group_by("symbol").agg(pl.col("ts").dt.epoch("ns").max())
            for symbol, newest in latest.iter_rows():
                self._newest[symbol] = max(self._newest.get(symbol, newest), newest)
                self._heard[symbol] = now
        waited = [
            s for s, heard in self._heard.items() if self._clock() - heard < self.idle_seconds
        ]
        if any(s not in self._newest for s in waited):
            return self._release(None)  # a symbol not heard from yet: wait for it
        mark = min((self._newest[s] for s in waited), default=None)
        return self._release(mark if waited else max(self._newest.values(), default=None))

    def flush(self) -> pl.DataFrame:
        """Every bar still held (the stream has ended)."""
        return self._release(None, everything=True)

    def _release(self, mark: int | None, everything: bool = False) -> pl.DataFrame:
        if not self._held:
            return pl.DataFrame()
        held = pl.concat(self._held, how="vertical_relaxed")
        if everything:
            ready = pl.lit(True)
        elif mark is None:
            ready = pl.lit(False)
        else:
            ready = pl.col("ts").dt.epoch("ns") <= mark
        out = held.filter(ready).sort("ts", "symbol")
        rest = held.filter(~ready)
        self._held = [rest] if rest.height else []
        return out
