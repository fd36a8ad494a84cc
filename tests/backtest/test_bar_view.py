"""The bar a strategy sees is the bar of the data, at every event: in the bars-only loop
(a view over the engine's columns, across chunk boundaries) as in the loop over every
kind of event (a view the engine fills in)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.backtest import engine
from cift.backtest.engine import run_backtest
from cift.strategy.base import Strategy
from cift.strategy.context import BarView
from tests.backtest.scripted import DAY
from tests.backtest.test_engine_properties import random_bars
from tests.budget import deep

FIELDS = ("symbol", "ts_ns", "open", "high", "low", "close", "volume")


class Recorder(Strategy):
    """Keeps every field of every bar it is given, with its own position and features."""

    name = "recorder"

    def on_start(self) -> None:
        self.seen: list[tuple[object, ...]] = []

    def on_bar(self, bar: BarView) -> None:
        self.seen.append(tuple(getattr(bar, name) for name in FIELDS))
        if len(self.seen) % 7 == 0:  # some orders, so that the venue sees bars too
            self.ctx.order_target_percent(bar.symbol, 0.3 if len(self.seen) % 2 else 0.0)


class TimedRecorder(Recorder):
    """The same, with ``on_time``: the engine takes its loop over every kind of event."""

    def on_time(self, ts_ns: int) -> None:
        pass


def seen_by(cls: type[Recorder], bars: pl.DataFrame) -> list[tuple[object, ...]]:
    kept: list[Recorder] = []

    class Kept(cls):  # type: ignore[valid-type,misc]
        def on_start(self) -> None:
            super().on_start()
            kept.append(self)

    run_backtest(Kept, bars=bars, timeframe=DAY)
    return kept[0].seen


@settings(max_examples=deep(15), deadline=None)
@given(seed=st.integers(0, 10_000), symbols=st.integers(1, 4), chunk=st.integers(1, 50))
def test_each_bar_seen_is_the_data_s_bar_in_event_order(
    seed: int, symbols: int, chunk: int
) -> None:
    rng = np.random.default_rng(seed)
    names = [f"S{i}" for i in range(symbols)]
    bars = random_bars(rng, names, 30).sample(fraction=1.0, shuffle=True, seed=seed)
    # Daily bars of one timeframe: the events run by time, then by symbol.
    expected = [
        (
            row["symbol"],
            row["ts"],
            row["open"],
            row["high"],
            row["low"],
            row["close"],
            row["volume"],
        )
        for row in bars.with_columns(pl.col("ts").dt.epoch("ns"))
        .sort("ts", "symbol")
        .iter_rows(named=True)
    ]
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine, "CHUNK", chunk)  # chunk boundaries anywhere
        assert seen_by(Recorder, bars) == expected
        assert seen_by(TimedRecorder, bars) == expected
