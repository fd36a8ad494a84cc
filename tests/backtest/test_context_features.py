"""What a strategy reads with ``ctx.feature`` is the feature as computed on its own,
row for row: None during the warm-up and for undefined values, the value otherwise,
for the current symbol and for another one; its derived columns and ``ctx.history``
follow each symbol's bars in time order. All of it whatever order the bars' rows come in
(symbol by symbol, time by time, or shuffled)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import talib

from cift.backtest.engine import run_backtest
from cift.core.settings import load_settings
from cift.data.aggregate import trades_to_bars
from cift.model import Timeframe
from cift.strategy.base import Strategy
from tests.data.marketdata import random_trades
from tests.fresh import fresh_python

MINUTE = Timeframe.parse("1m")


class Recorder(Strategy):
    """Records the features it sees on every bar, and never trades."""

    name = "recorder"

    def features(self) -> dict[str, str]:
        return {"slow": "sma(30)", "bb": "bbands(5)"}

    def derived(self, bars: pl.DataFrame) -> dict[str, pl.Series]:
        """Each bar's place among its symbol's bars (the frame runs by symbol and time)."""
        return {"place": bars.select(pl.int_range(pl.len()).over("symbol")).to_series()}

    def on_start(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def on_bar(self, bar: Any) -> None:
        self.seen.append(
            {
                "symbol": bar.symbol,
                "ts": bar.ts_ns,
                "slow": self.ctx.feature("slow"),
                "upper": self.ctx.feature("bb_upper"),
                "other": self.ctx.feature("slow", "BBB" if bar.symbol == "AAA" else "AAA"),
                "place": self.ctx.feature("place"),
                "recent": self.ctx.history(bar.symbol, "close", 3).tolist(),
            }
        )

    def on_stop(self) -> None:
        Recorder.last = self.seen  # type: ignore[attr-defined]


LAYOUTS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "symbol by symbol": lambda bars: bars.sort("symbol", "ts"),
    "time by time": lambda bars: bars.sort("ts", "symbol"),
    "time by time, symbols reversed": lambda bars: bars.sort(
        "ts", "symbol", descending=[False, True]
    ),
    "shuffled": lambda bars: bars.sample(fraction=1.0, shuffle=True, seed=3),
}


def _seen(bars: pl.DataFrame) -> list[dict[str, Any]]:
    run_backtest(Recorder, bars=bars, timeframe=MINUTE)
    return Recorder.last  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    trades = random_trades(6000, ["AAA", "BBB"], seed=11)
    return trades_to_bars(trades.lazy(), MINUTE).collect()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_features_seen_by_the_strategy_are_the_computed_ones(
    bars: pl.DataFrame, layout: str
) -> None:
    recorded = _seen(LAYOUTS[layout](bars))
    assert recorded == _seen(bars.sort("symbol", "ts"))  # one stream, whatever the layout
    seen = pl.DataFrame(recorded, schema_overrides={"ts": pl.Int64}, orient="row")
    for symbol in ("AAA", "BBB"):
        mine = seen.filter(pl.col("symbol") == symbol)
        close = bars.filter(pl.col("symbol") == symbol).sort("ts").get_column("close").to_numpy()
        assert mine.get_column("place").to_list() == list(range(len(close)))
        assert mine.get_column("recent").to_list() == [
            close[max(0, i - 2) : i + 1].tolist() for i in range(len(close))
        ]
        expected = talib.SMA(close, 30)  # TA-Lib, independently of our kernels
        got = mine.get_column("slow").to_list()
        assert got[:29] == [None] * 29  # the warm-up is None, not NaN or 0
        assert all(abs(a - b) < 1e-9 for a, b in zip(got[29:], expected[29:], strict=True))
        upper = talib.BBANDS(close, 5, 2, 2)[0]
        assert mine.get_column("upper").to_list()[:4] == [None] * 4
        assert abs(mine.get_column("upper")[4] - upper[4]) < 1e-9
    # another symbol's latest value: None before its own first complete window
    first = seen.row(0, named=True)
    assert first["other"] is None
    last = seen.row(-1, named=True)
    other_close = bars.filter(pl.col("symbol") != last["symbol"]).sort("ts")
    assert abs(last["other"] - talib.SMA(other_close.get_column("close").to_numpy(), 30)[-1]) < 1e-9


SETTINGS_SCRIPT = """
import sys
from datetime import UTC, datetime
import polars as pl
from cift.backtest.engine import run_backtest
from cift.model import Timeframe
from cift.strategy.base import Strategy

class Asks(Strategy):
    name = "asks"
    def on_bar(self, bar):
        pass
    def on_stop(self):
        if sys.argv[1] == "asks":
            print(self.ctx.settings.home)

bars = pl.DataFrame({
    "symbol": ["AAA"] * 3,
    "ts": [datetime(2024, 1, 2, 15, m, tzinfo=UTC) for m in range(3)],
    **{c: [10.0, 11.0, 12.0] for c in ("open", "high", "low", "close")},
    "volume": [100.0] * 3,
})
run_backtest(Asks, bars=bars, timeframe=Timeframe.parse("1m"))
print("cift.core.settings" in sys.modules)
"""


@pytest.mark.parametrize("asks", [False, True])
def test_the_settings_are_read_only_when_a_strategy_asks(tmp_path: Path, asks: bool) -> None:
    """``ctx.settings``: the process's settings, read when first asked; a backtest whose
    strategy never asks does not load them (their module and pydantic-settings)."""
    env = {**os.environ, "CIFT_HOME": str(tmp_path / "home")}
    printed = fresh_python(SETTINGS_SCRIPT, "asks" if asks else "quiet", env=env)
    assert printed == ([str(tmp_path / "home"), "True"] if asks else ["False"])


def test_a_run_given_settings_hands_them_to_the_strategy(tmp_path: Path) -> None:
    seen: list[Path] = []

    class Asks(Strategy):
        name = "asks"

        def on_stop(self) -> None:
            seen.append(self.ctx.settings.home)

    settings = load_settings(home=tmp_path / "given")
    bars = trades_to_bars(random_trades(200, ["AAA"], seed=2).lazy(), MINUTE).collect()
    run_backtest(Asks, bars=bars, timeframe=MINUTE, settings=settings)
    assert seen == [tmp_path / "given"]
