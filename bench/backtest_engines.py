"""One SMA(10/50) crossover, long or flat, in each engine; run as its own process.

    python bench/backtest_engines.py ENGINE BARS.parquet

ENGINE is cift, backtesting, backtrader or nautilus. Prints one JSON line: bars, the
seconds spent in the engine's run (data already loaded), trades and final equity.
``bench/backtest.py`` starts one process per engine and adds whole-process time and
peak memory.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from peak import peak_mib

FAST, SLOW, CASH = 10, 50, 1_000_000.0


def cift(bars: pl.DataFrame) -> tuple[float, int, float]:
    from cift.backtest.config import BacktestConfig
    from cift.backtest.engine import run_backtest
    from cift.model import Timeframe
    from cift.strategy.builtin.sma_cross import SmaCross

    share = 1.0 / bars.get_column("symbol").n_unique()  # each symbol gets its share of equity
    params = SmaCross.parse_params({"fast": FAST, "slow": SLOW, "fraction": share})
    began = time.perf_counter()
    result = run_backtest(
        SmaCross,
        bars=bars,
        timeframe=Timeframe.parse("1m"),
        params=params,
        config=BacktestConfig(initial_cash=CASH),
    )
    return time.perf_counter() - began, result.trades.height, result.final_equity


def _pandas(bars: pl.DataFrame) -> dict[str, Any]:
    """Per-symbol pandas frames (imported here: only the engines that need pandas pay for it)."""
    import pandas as pd

    frames = {}
    for (symbol,), part in bars.partition_by("symbol", as_dict=True).items():
        frame = part.select("ts", "open", "high", "low", "close", "volume").to_pandas()
        frames[str(symbol)] = frame.set_index(
            pd.DatetimeIndex(frame.pop("ts").dt.tz_localize(None))
        )
    return frames


def backtesting(bars: pl.DataFrame) -> tuple[float, int, float]:
    import pandas as pd
    from backtesting import Backtest, Strategy

    def sma(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class Cross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy()
            elif self.position:
                self.position.close()

    seconds, trades, equity = 0.0, 0, 0.0
    for frame in _pandas(bars).values():  # single-asset: one run per symbol
        frame.columns = ["Open", "High", "Low", "Close", "Volume"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            began = time.perf_counter()
            stats = Backtest(frame, Cross, cash=CASH, finalize_trades=True).run()
            seconds += time.perf_counter() - began
        trades += int(stats["# Trades"])
        equity += float(stats["Equity Final [$]"])
    return seconds, trades, equity


def backtrader(bars: pl.DataFrame) -> tuple[float, int, float]:
    import backtrader as bt

    class Cross(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            self.trades = 0
            self.above = [
                bt.indicators.SMA(d.close, period=FAST) > bt.indicators.SMA(d.close, period=SLOW)
                for d in self.datas
            ]

        def next(self) -> None:
            share = self.broker.get_value() / len(self.datas)
            for data, above in zip(self.datas, self.above, strict=True):
                held = self.getposition(data).size
                if above[0] and not held:
                    self.buy(data=data, size=math.floor(share / data.close[0]))
                elif not above[0] and held:
                    self.close(data=data)
                    self.trades += 1

    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in _pandas(bars).items():
        cerebro.adddata(bt.feeds.PandasData(dataname=frame), name=symbol)
    cerebro.addstrategy(Cross)
    cerebro.broker.setcash(CASH)
    began = time.perf_counter()
    strategy = cerebro.run()[0]
    return time.perf_counter() - began, strategy.trades, float(cerebro.broker.get_value())


def nautilus(bars: pl.DataFrame) -> tuple[float, int, float]:
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.indicators import SimpleMovingAverage
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import Bar, BarType
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId, Venue
    from nautilus_trader.model.objects import Money, Quantity
    from nautilus_trader.persistence.wranglers import BarDataWrangler
    from nautilus_trader.test_kit.providers import TestInstrumentProvider
    from nautilus_trader.trading.strategy import Strategy

    class CrossConfig(StrategyConfig, frozen=True):  # type: ignore[misc,call-arg]
        instrument_id: InstrumentId
        bar_type: BarType
        symbols: int

    class Cross(Strategy):  # type: ignore[misc]
        def __init__(self, config: CrossConfig) -> None:
            super().__init__(config)
            self.fast = SimpleMovingAverage(FAST)
            self.slow = SimpleMovingAverage(SLOW)
            self.trades = 0

        def on_start(self) -> None:
            self.register_indicator_for_bars(self.config.bar_type, self.fast)
            self.register_indicator_for_bars(self.config.bar_type, self.slow)
            self.subscribe_bars(self.config.bar_type)

        def on_bar(self, bar: Bar) -> None:
            if not self.slow.initialized:
                return
            iid = self.config.instrument_id
            flat = self.portfolio.is_flat(iid)
            if self.fast.value > self.slow.value and flat:
                account = self.portfolio.account(iid.venue)
                share = account.balance_free(USD).as_double() / self.config.symbols
                size = math.floor(share * 0.999 / float(bar.close))
                if size > 0:
                    order = self.order_factory.market(iid, OrderSide.BUY, Quantity.from_int(size))
                    self.submit_order(order)
            elif self.fast.value <= self.slow.value and not flat:
                self.close_all_positions(iid)
                self.trades += 1

    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True))
    )
    venue = Venue("XNAS")
    engine.add_venue(
        venue=venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=USD,
        starting_balances=[Money(CASH, USD)],
    )
    frames = _pandas(bars)
    strategies = []
    for symbol, frame in frames.items():
        instrument = TestInstrumentProvider.equity(symbol, "XNAS")
        engine.add_instrument(instrument)
        bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
        engine.add_data(BarDataWrangler(bar_type, instrument).process(frame))
        strategy = Cross(
            CrossConfig(instrument_id=instrument.id, bar_type=bar_type, symbols=len(frames))
        )
        engine.add_strategy(strategy)
        strategies.append(strategy)
    began = time.perf_counter()
    engine.run()
    seconds = time.perf_counter() - began
    balance = engine.portfolio.account(venue).balance_total(USD).as_double()
    held = sum(
        float(engine.portfolio.net_exposure(s.config.instrument_id) or Decimal(0))
        for s in strategies
    )
    return seconds, sum(s.trades for s in strategies), balance + held


ENGINES: dict[str, Callable[[pl.DataFrame], tuple[float, int, float]]] = {
    "cift": cift,
    "backtesting": backtesting,
    "backtrader": backtrader,
    "nautilus": nautilus,
}


def main() -> None:
    engine, path = sys.argv[1], Path(sys.argv[2])
    bars = pl.read_parquet(path)
    seconds, trades, equity = ENGINES[engine](bars)
    print(
        json.dumps(
            {
                "bars": bars.height,
                "seconds": seconds,
                "trades": trades,
                "equity": equity,
                "peak_mib": peak_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
