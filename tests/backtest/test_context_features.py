"""What a strategy reads with ``ctx.feature`` is the feature as computed on its own,
row for row: None during the warm-up and for undefined values, the value otherwise,
for the current symbol and for another one."""

from __future__ import annotations

from typing import Any

import polars as pl
import talib

from cift.backtest.engine import run_backtest
from cift.data.aggregate import trades_to_bars
from cift.model import Timeframe
from cift.strategy.base import Strategy
from tests.data.marketdata import random_trades

MINUTE = Timeframe.parse("1m")


class Recorder(Strategy):
    """Records the features it sees on every bar, and never trades."""

    name = "recorder"

    def features(self) -> dict[str, str]:
        return {"slow": "sma(30)", "bb": "bbands(5)"}

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
            }
        )

    def on_stop(self) -> None:
        Recorder.last = self.seen  # type: ignore[attr-defined]


def test_features_seen_by_the_strategy_are_the_computed_ones() -> None:
    trades = random_trades(6000, ["AAA", "BBB"], seed=11)
    bars = trades_to_bars(trades.lazy(), MINUTE).collect()
    run_backtest(Recorder, bars=bars, timeframe=MINUTE)
    seen = pl.DataFrame(Recorder.last, schema_overrides={"ts": pl.Int64}, orient="row")  # type: ignore[attr-defined]
    for symbol in ("AAA", "BBB"):
        mine = seen.filter(pl.col("symbol") == symbol)
        close = bars.filter(pl.col("symbol") == symbol).sort("ts").get_column("close").to_numpy()
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
