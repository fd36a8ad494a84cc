"""Built-in strategies: each does what its rule says, on real data."""

from __future__ import annotations

import polars as pl
import pytest
import talib

from cift.backtest.config import BacktestConfig
from cift.backtest.engine import run_backtest
from cift.core.errors import ValidationError
from cift.data.files import load
from cift.model import Timeframe
from cift.strategy.registry import STRATEGIES, get_strategy
from tests.samples import DATA

NVDA = load(DATA / "daily/nvda-1999-2014.csv")
ORCL = load(DATA / "daily/orcl-1995-2014.csv")
DAY = Timeframe.parse("1d")


def decision_rows(result, bars: pl.DataFrame, tag: str | None = None) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """The bar on whose close each order was decided (its close time = order time)."""
    decided = bars.with_columns(
        (pl.col("ts") + pl.duration(days=1)).cast(pl.Datetime("ns", "UTC")).alias("created")
    )
    orders = result.orders.filter(pl.col("status") == "filled")
    return orders.join(decided, on=["symbol", "created"], how="inner")


def test_rsi_reversion_buys_oversold_and_sells_recovered() -> None:
    result = run_backtest(
        get_strategy("rsi_reversion"),
        bars=NVDA.frame,
        timeframe=DAY,
        params=get_strategy("rsi_reversion").parse_params({"oversold": 25}),
    )
    bars = NVDA.frame.with_columns(pl.Series("rsi", talib.RSI(NVDA.frame["close"].to_numpy(), 14)))
    decisions = decision_rows(result, bars)
    assert decisions.height > 10
    buys, sells = decisions.filter(pl.col("side") > 0), decisions.filter(pl.col("side") < 0)
    assert (buys["rsi"] < 25).all()
    assert (sells["rsi"] > 55).all()


def test_donchian_enters_on_breakouts_only() -> None:
    result = run_backtest(get_strategy("donchian_breakout"), bars=NVDA.frame, timeframe=DAY)
    bars = NVDA.frame.with_columns(
        pl.col("high").shift(1).rolling_max(20).alias("prior_high"),
        pl.col("low").shift(1).rolling_min(10).alias("prior_low"),
    )
    decisions = decision_rows(result, bars)
    buys, sells = decisions.filter(pl.col("side") > 0), decisions.filter(pl.col("side") < 0)
    assert buys.height > 10
    assert (buys["close"] > buys["prior_high"]).all()
    assert (sells["close"] < sells["prior_low"]).all()


def test_momentum_holds_the_best_trailing_return() -> None:
    bars = pl.concat([NVDA.frame, ORCL.frame]).filter(pl.col("ts").dt.year() >= 2000)
    result = run_backtest(
        get_strategy("momentum"),
        bars=bars,
        timeframe=DAY,
        params=get_strategy("momentum").parse_params({"top": 1, "lookback": 60}),
    )
    buys = result.orders.filter((pl.col("side") > 0) & (pl.col("status") == "filled"))
    assert buys.height > 5
    returns = bars.with_columns(
        (pl.col("close") / pl.col("close").shift(60).over("symbol") - 1).alias("ret"),
        (pl.col("ts") + pl.duration(days=1)).cast(pl.Datetime("ns", "UTC")).alias("created"),
    )
    for row in buys.iter_rows(named=True):
        moment = (
            returns.filter(pl.col("created") <= row["created"])
            .group_by("symbol")
            .agg(pl.col("ret").last())
        )
        best = moment.sort("ret", descending=True).item(0, "symbol")
        assert row["symbol"] == best


def test_order_flow_trades_binance_tape_and_book() -> None:
    trades = load(DATA / "ticks/btcusdt-trades-binance.parquet").frame
    quotes = (
        load(DATA / "ticks/btcusdt-quotes-binance.parquet")
        .frame.with_columns(pl.lit("BTCUSDT").alias("symbol"))
        .unique(["symbol", "ts"], keep="last")
        .sort("ts")
    )
    strategy = get_strategy("order_flow")
    result = run_backtest(
        strategy,
        trades=trades,
        quotes=quotes,
        params=strategy.parse_params({"size": 0.5, "halflife": 20}),
        config=BacktestConfig(account="margin", leverage=2, fractional=True),
    )
    assert result.fills.height > 2
    assert result.equity.height == pl.concat([trades["ts"], quotes["ts"]]).n_unique()
    # Market orders on quotes cross the spread: buys at an ask, sells at a bid.
    asks = set(quotes["ask"].to_list())
    bids = set(quotes["bid"].to_list())
    for row in result.fills.iter_rows(named=True):
        assert row["price"] in (asks if row["side"] > 0 else bids)


# order_flow trades ticks; model_signal needs a registered model (tests/ml test it)
BAR_STRATEGIES = sorted(set(STRATEGIES) - {"order_flow", "model_signal"})


@pytest.mark.parametrize("name", BAR_STRATEGIES)
def test_runs_are_deterministic_and_parameters_are_checked(name: str) -> None:
    strategy = get_strategy(name)
    bars = pl.concat([NVDA.frame, ORCL.frame]).filter(pl.col("ts").dt.year() == 2010)
    first = run_backtest(strategy, bars=bars, timeframe=DAY)
    again = run_backtest(strategy, bars=bars, timeframe=DAY)
    assert first.equity.equals(again.equity)
    with pytest.raises(ValidationError, match=f"Bad parameters for {name}"):
        strategy.parse_params({"nonsense": 1})


def test_unknown_strategy_lists_the_choices() -> None:
    with pytest.raises(ValidationError, match="choose from sma_cross"):
        get_strategy("nope")
