"""Strategies and bars written out by hand, for engine tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl

from cift.model import Timeframe
from cift.strategy.base import Strategy
from cift.strategy.context import BarView

DAY = Timeframe.parse("1d")
START = datetime(2024, 1, 1, tzinfo=UTC)


def bars(
    rows: list[tuple[float, float, float, float]], symbol: str = "X", volume: float = 1_000.0
) -> pl.DataFrame:
    """Daily bars from (open, high, low, close) tuples."""
    return pl.DataFrame(
        {
            "symbol": [symbol] * len(rows),
            "ts": [START + timedelta(days=i) for i in range(len(rows))],
            "open": [r[0] for r in rows],
            "high": [r[1] for r in rows],
            "low": [r[2] for r in rows],
            "close": [r[3] for r in rows],
            "volume": [volume] * len(rows),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def scripted(actions: dict[int, Callable[[Strategy, BarView], object]]) -> type[Strategy]:
    """A strategy that runs ``actions[n]`` on its n-th bar (0-based)."""

    class Scripted(Strategy):
        name = "scripted"

        def on_start(self) -> None:
            self.count = 0

        def on_bar(self, bar: BarView) -> None:
            action = actions.get(self.count)
            if action is not None:
                action(self, bar)
            self.count += 1

    return Scripted
