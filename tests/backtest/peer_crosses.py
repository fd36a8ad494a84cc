"""The SMA(10/50) crossover in backtesting.py and backtrader, run as
``tests/backtest/test_cross_engine.py`` maps CIFT's settings onto them (imported by the
test itself: the two libraries take seconds to import, which collecting the suite
would otherwise pay)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import backtrader as bt
import pandas as pd
from backtesting import Backtest
from backtesting import Strategy as BtpStrategy

RATE = 0.001
"""Commission, a fraction of the notional."""


def _sma(values: pd.Series, n: int) -> pd.Series:
    return pd.Series(values).rolling(n).mean()


class BtpCross(BtpStrategy):  # type: ignore[misc]
    def init(self) -> None:
        self.fast = self.I(_sma, self.data.Close, 10)
        self.slow = self.I(_sma, self.data.Close, 50)

    def next(self) -> None:
        fast, slow = self.fast[-1], self.slow[-1]
        if math.isnan(slow):
            return
        if fast > slow and not self.position:
            self.buy()
        elif fast <= slow and self.position:
            self.position.close()


class BtCross(bt.Strategy):  # type: ignore[misc]
    def __init__(self) -> None:
        self.fast = bt.indicators.SMA(self.data.close, period=10)
        self.slow = bt.indicators.SMA(self.data.close, period=50)
        self.entries: list[tuple[object, float, float]] = []
        self.ready = False

    def next_open(self) -> None:
        # Indicators are not yet updated for this bar: [0] holds the previous close's.
        if len(self.slow) < 1 or math.isnan(self.slow[0]):
            return
        if not self.ready:
            self.ready = True
            return
        fast, slow = self.fast[0], self.slow[0]
        if fast > slow and not self.position:
            size = math.floor(self.broker.get_cash() / (self.data.open[0] * (1 + RATE)))
            if size:
                self.buy(size=size)
        elif fast <= slow and self.position:
            self.close()

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.entries.append((trade.dtopen, trade.price, trade.pnlcomm))


def run_backtesting(bars: pd.DataFrame, cash: float) -> Any:
    """backtesting.py's statistics of the crossover on ``bars`` (its column names)."""
    with warnings.catch_warnings():  # backtesting.py warns about its own defaults
        warnings.simplefilter("ignore")
        return Backtest(
            bars, BtpCross, cash=cash, commission=RATE, trade_on_close=False, finalize_trades=False
        ).run()


def run_backtrader(bars: pd.DataFrame, cash: float) -> tuple[BtCross, float]:
    """backtrader's strategy (with its closed trades) and final value on ``bars``."""
    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=bars.rename(columns=str.lower)))
    cerebro.addstrategy(BtCross)
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=RATE)
    (run,) = cerebro.run()
    return run, float(cerebro.broker.getvalue())
