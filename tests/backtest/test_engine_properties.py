"""Engine invariants: equity is cash plus positions, no fill precedes its order,
buy-and-hold without costs follows the price, same input gives the same output."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps, FixedBps, PerShare
from cift.backtest.engine import run_backtest
from cift.model.orders import TimeInForce
from cift.strategy.base import Strategy
from cift.strategy.context import BarView
from tests.backtest.scripted import DAY, START
from tests.budget import deep


def random_bars(rng: np.random.Generator, symbols: list[str], days: int) -> pl.DataFrame:
    frames = []
    for symbol in symbols:
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, days)))
        open_ = close * np.exp(rng.normal(0, 0.01, days))
        high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, days))
        low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, days))
        frames.append(
            pl.DataFrame(
                {
                    "symbol": symbol,
                    "ts": [START + timedelta(days=i) for i in range(days)],
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": rng.integers(100, 5_000, days).astype(float),
                }
            )
        )
    return pl.concat(frames).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


class RandomTrader(Strategy):
    """Places random orders of every type, from a seed."""

    name = "random_trader"
    seed = 0

    def on_start(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def on_bar(self, bar: BarView) -> None:
        choice = self.rng.integers(0, 8)
        size = float(self.rng.integers(1, 40)) * (1 if self.rng.random() < 0.6 else -1)
        tif = [TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC][int(self.rng.integers(0, 3))]
        away = bar.close * (1 + self.rng.normal(0, 0.03))
        if choice == 0:
            self.ctx.market(bar.symbol, size, tif=tif)
        elif choice == 1:
            self.ctx.limit(bar.symbol, size, away, tif=tif)
        elif choice == 2:
            self.ctx.stop(bar.symbol, size, away, tif=tif)
        elif choice == 3:
            self.ctx.order_target_percent(bar.symbol, float(self.rng.uniform(-0.5, 0.5)))
        elif choice == 4 and self.ctx.open_orders(bar.symbol):
            self.ctx.cancel(self.ctx.open_orders(bar.symbol)[0].id)
        elif choice == 5:
            self.ctx.bracket(bar.symbol, abs(size), bar.close * 1.05, bar.close * 0.95)


def reconstruct(result, bars: pl.DataFrame, initial: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Equity at each recorded time, rebuilt from the fills and the closes alone."""
    # A fill at a bar's open is booked when that bar closes (one day later here).
    fills = result.fills.with_columns(pl.col("ts") + pl.duration(days=1)).sort("ts", "order_id")
    closes = bars.with_columns((pl.col("ts") + pl.duration(days=1)).alias("known"))
    values = []
    for ts in result.equity.get_column("ts"):
        done = fills.filter(pl.col("ts") <= ts)
        cash = (
            initial
            - float((done["side"] * done["quantity"] * done["price"]).sum())
            - float(done["commission"].sum())
        )
        held = done.group_by("symbol").agg((pl.col("side") * pl.col("quantity")).sum().alias("q"))
        marks = closes.filter(pl.col("known") <= ts).group_by("symbol").agg(pl.col("close").last())
        joined = held.join(marks, on="symbol", how="left").fill_null(0.0)
        values.append(cash + float((joined["q"] * joined["close"]).sum()))
    return np.array(values)


@settings(max_examples=deep(25), deadline=None)
@given(
    seed=st.integers(0, 10_000),
    account=st.sampled_from(["cash", "margin"]),
    costs=st.sampled_from(["none", "bps", "per_share"]),
)
def test_invariants_hold_for_random_orders(seed: int, account: str, costs: str) -> None:
    rng = np.random.default_rng(seed)
    bars = random_bars(rng, ["AAA", "BBB"], 40)
    commission = {"none": None, "bps": Bps(5), "per_share": PerShare(0.01, minimum=1)}[costs]
    config = BacktestConfig(
        initial_cash=50_000,
        account=account,
        leverage=2,  # type: ignore[arg-type]
        slippage=FixedBps(2),
        **({"commission": commission} if commission else {}),
    )
    trader = type("Trader", (RandomTrader,), {"seed": seed})
    result = run_backtest(trader, bars=bars, timeframe=DAY, config=config)
    # Equity is cash plus positions at every step, rebuilt independently.
    np.testing.assert_allclose(
        result.equity["equity"].to_numpy(), reconstruct(result, bars, 50_000), rtol=1e-9, atol=1e-6
    )
    # No fill precedes its order (nor its activation).
    joined = result.fills.join(result.orders, left_on="order_id", right_on="id", suffix="_order")
    assert (joined["ts"] >= joined["created"]).all()
    if account == "cash":
        assert (result.equity["cash"] >= -1e-6).all()
        held = result.fills.sort("ts", "order_id").select(
            (pl.col("side") * pl.col("quantity")).cum_sum().over("symbol").alias("held")
        )
        assert (held["held"] >= -1e-9).all(), "a cash account went short"
    again = run_backtest(trader, bars=bars, timeframe=DAY, config=config)
    assert_frame_equal(result.equity, again.equity)
    assert_frame_equal(result.fills, again.fills)


class BuyAndHold(Strategy):
    name = "buy_and_hold"

    def on_start(self) -> None:
        self.done = False

    def on_bar(self, bar: BarView) -> None:
        if not self.done:
            self.ctx.order_target_percent(bar.symbol, 1.0)
            self.done = True


@given(seed=st.integers(0, 1_000))
@settings(max_examples=deep(20), deadline=None)
def test_buy_and_hold_without_costs_follows_the_price(seed: int) -> None:
    bars = random_bars(np.random.default_rng(seed), ["AAA"], 60)
    result = run_backtest(
        BuyAndHold,
        bars=bars,
        timeframe=DAY,
        config=BacktestConfig(initial_cash=10_000, fractional=True),
    )
    entry = bars["open"][1]
    expected = 10_000 * bars["close"].to_numpy()[1:] / entry
    np.testing.assert_allclose(result.equity["equity"].to_numpy()[1:], expected, rtol=1e-12)
