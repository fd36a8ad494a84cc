"""SMA(10/50) crossover, long or flat, all in at the next open, 0.1% commission: the
trades and final equity of CIFT, backtesting.py and backtrader agree on real data.

Mapping of settings (also in docs/backtesting.md):
- CIFT: ``order_target_percent(1.0)`` / ``(0.0)`` on the bar where SMA(10) > SMA(50)
  changes; market orders fill at the next open; sized at that open as the most whole
  shares the cash buys after ``Bps(10)`` commission; cash account.
- backtesting.py: ``self.buy()`` (size = all available margin) and
  ``self.position.close()``, ``commission=0.001``, ``trade_on_close=False``.
- backtrader: ``cheat_on_open=True``; in ``next_open`` (the next bar's open is known) buy
  ``floor(cash / (open * 1.001))`` shares or close; ``setcommission(commission=0.001)``.
- backtesting.py first calls ``next()`` one bar after every indicator has a value, so a
  signal already on at that first bar is acted on one bar later; CIFT and backtrader skip
  that bar here too (``FirstBarSkipped``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.backtest.engine import run_backtest
from cift.data.files import load
from cift.strategy.builtin.sma_cross import SmaCross

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "daily"
CASH = 100_000.0


class FirstBarSkipped(SmaCross):
    """The built-in crossover, deciding from the second bar on which SMA(slow) exists."""

    def on_start(self) -> None:
        super().on_start()
        self.ready = False

    def on_bar(self, bar):  # type: ignore[no-untyped-def]
        if self.ctx.feature("slow") is None:
            return
        if not self.ready:
            self.ready = True
            return
        super().on_bar(bar)


def frames(name: str) -> tuple[pl.DataFrame, pd.DataFrame]:
    loaded = load(DATA / name)
    frame = loaded.frame
    pandas = frame.select("ts", "open", "high", "low", "close", "volume").to_pandas()
    pandas = pandas.set_index(pd.DatetimeIndex(pandas["ts"].dt.tz_localize(None))).drop(
        columns="ts"
    )
    pandas.columns = ["Open", "High", "Low", "Close", "Volume"]
    return frame, pandas


@pytest.mark.parametrize("name", ["nvda-1999-2014.csv", "orcl-1995-2014.csv"])
def test_three_engines_agree(name: str) -> None:
    frame, pandas = frames(name)
    loaded = load(DATA / name)
    ours = run_backtest(
        FirstBarSkipped,
        bars=frame,
        timeframe=loaded.timeframe,
        params=SmaCross.parse_params({"fast": 10, "slow": 50}),
        config=BacktestConfig(initial_cash=CASH, commission=Bps(10)),
    )

    from tests.backtest.peer_crosses import run_backtesting, run_backtrader

    btp = run_backtesting(pandas, CASH)
    btp_trades = btp["_trades"]
    bt_run, bt_value = run_backtrader(pandas, CASH)

    closed = ours.trades
    # Same round trips: entry prices and sizes, and P&L after commission.
    assert closed.height == len(btp_trades) == len(bt_run.entries)
    assert closed["quantity"].to_list() == btp_trades["Size"].abs().tolist()
    for column, theirs in (
        ("entry_price", btp_trades["EntryPrice"]),
        ("exit_price", btp_trades["ExitPrice"]),
    ):
        assert closed[column].to_list() == pytest.approx(theirs.tolist(), rel=1e-9)
    assert closed["pnl"].to_list() == pytest.approx([e[2] for e in bt_run.entries], rel=1e-6)
    # Same money at the end (an open position is valued at the last close by all three).
    final = ours.final_equity
    assert final == pytest.approx(btp["Equity Final [$]"], rel=1e-6)
    assert final == pytest.approx(bt_value, rel=1e-6)
