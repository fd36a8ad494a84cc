"""Metrics agree with empyrical (and quantstats) on the same returns."""

from __future__ import annotations

import math
from pathlib import Path

import empyrical as ep
import numpy as np
import pandas as pd
import polars as pl
import pytest
import quantstats as qs
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cift.backtest import metrics as m
from cift.backtest.engine import BacktestResult
from cift.model import Timeframe
from tests.budget import deep

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "daily"
REL = 1e-9

returns_arrays = arrays(
    np.float64,
    st.integers(3, 400),
    elements=st.floats(-0.2, 0.2, allow_nan=False, allow_subnormal=False),
)


def close(ours: float, theirs: float) -> bool:
    if math.isnan(theirs) or math.isinf(theirs):
        return math.isnan(ours) or ours == theirs
    return math.isclose(ours, theirs, rel_tol=REL, abs_tol=1e-12)


@given(returns_arrays)
@settings(max_examples=deep(60), deadline=None)
def test_return_metrics_match_empyrical(r: np.ndarray) -> None:
    ppy = 252.0
    assert close(m.total_return(r), ep.cum_returns_final(r))
    assert close(m.annual_return(r, ppy), ep.annual_return(r, annualization=ppy))
    assert close(m.annual_volatility(r, ppy), ep.annual_volatility(r, annualization=ppy))
    assert close(m.sharpe_ratio(r, ppy), ep.sharpe_ratio(r, annualization=ppy))
    assert close(m.sortino_ratio(r, ppy), ep.sortino_ratio(r, annualization=ppy))


@given(returns_arrays, st.floats(1.0, 1e7))
@settings(max_examples=deep(60), deadline=None)
def test_drawdown_and_calmar_match_empyrical(r: np.ndarray, initial: float) -> None:
    # Our drawdown counts from the initial cash: empyrical's on returns led by a zero.
    equity = initial * np.cumprod(1.0 + r)
    led = np.concatenate(([0.0], r))
    mdd = m.max_drawdown(equity, initial)
    assert close(mdd, min(ep.max_drawdown(led), 0.0))
    assert close(m.simple_returns(equity, initial)[0], r[0])
    expected_calmar = ep.annual_return(r, annualization=252) / abs(mdd) if mdd < 0 else math.nan
    assert close(m.calmar_ratio(m.annual_return(r, 252), mdd), expected_calmar)


@given(returns_arrays, st.floats(-2, 2), st.integers(0, 2**31))
@settings(max_examples=deep(60), deadline=None)
def test_alpha_beta_match_empyrical(r: np.ndarray, true_beta: float, seed: int) -> None:
    bench = np.random.default_rng(seed).normal(0, 0.01, r.size)
    strategy = true_beta * bench + r / 10
    alpha, beta = m.alpha_beta(strategy, bench, 252)
    ep_alpha, ep_beta = ep.alpha_beta(strategy, bench, annualization=252)
    assert close(beta, ep_beta)
    assert close(alpha, ep_alpha)


def test_longest_drawdown_run() -> None:
    under = np.array([0, 1, 1, 0, 1, 1, 1, 0, 1], dtype=bool)
    assert m.longest_drawdown(under) == (4, 3)
    assert m.longest_drawdown(np.zeros(4, dtype=bool)) == (0, 0)
    assert m.longest_drawdown(np.ones(3, dtype=bool)) == (0, 3)


def test_backtest_metrics_match_quantstats(nvda: tuple[pl.DataFrame, BacktestResult]) -> None:
    bars, result = nvda
    bench = m.buy_and_hold(bars, Timeframe.parse("1d"))
    ours = m.compute_metrics(result, benchmark=bench)
    curve = result.equity.to_pandas().set_index("ts")["equity"]
    returns = pd.concat([pd.Series([100_000.0]), curve.reset_index(drop=True)]).pct_change()
    returns = returns.iloc[1:].set_axis(curve.index)
    assert ours.periods_per_year == 252
    assert close(ours.total_return, qs.stats.comp(returns))
    assert close(ours.sharpe, qs.stats.sharpe(returns, periods=252, annualize=True))
    assert close(ours.annual_volatility, qs.stats.volatility(returns, periods=252))
    assert close(ours.final_equity, result.final_equity)
    nav = bench.to_pandas().set_index("ts")["value"].reindex(curve.index).ffill()
    bench_returns = nav.pct_change().iloc[1:].to_numpy()
    alpha, beta = ep.alpha_beta(returns.iloc[1:].to_numpy(), bench_returns, annualization=252)
    assert close(ours.beta, beta)
    assert close(ours.alpha, alpha)
    assert 0 < ours.beta < 1  # long or flat: less market exposure than buy-and-hold


def test_trade_stats_match_pandas(nvda: tuple[pl.DataFrame, BacktestResult]) -> None:
    _, result = nvda
    ours = m.compute_metrics(result)
    pnl = result.trades.to_pandas()["pnl"]
    assert ours.trades == len(pnl) > 10
    assert close(ours.hit_rate, float((pnl > 0).mean()))
    assert close(ours.profit_factor, pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    assert close(ours.average_trade, pnl.mean())
    assert close(ours.commission, result.fills.to_pandas()["commission"].sum())
    assert 0 < ours.exposure < 1
    assert ours.turnover > 0


def test_intraday_periods_per_year() -> None:
    ts = pl.datetime_range(
        pl.datetime(2024, 1, 2, 14, 30, time_zone="UTC"),
        pl.datetime(2024, 1, 2, 20, 59, time_zone="UTC"),
        "1m",
        eager=True,
    )
    two_days = pl.concat([ts, ts.dt.offset_by("1d")])
    assert m.periods_per_year(two_days) == 252 * 390


def test_flat_run_has_defined_values(nvda: tuple[pl.DataFrame, BacktestResult]) -> None:
    _, result = nvda
    idle = BacktestResult(
        strategy="idle",
        params={},
        config=result.config,
        symbols=result.symbols,
        equity=result.equity.with_columns(
            pl.lit(100_000.0).alias("equity"), pl.lit(0.0).alias("gross_exposure")
        ),
        fills=result.fills.clear(),
        orders=result.orders.clear(),
        trades=result.trades.clear(),
        events=result.events,
    )
    flat = m.compute_metrics(idle).to_dict()
    assert flat["total_return"] == 0.0
    assert flat["max_drawdown"] == 0.0
    assert flat["sharpe"] is None
    assert flat["trades"] == 0
    assert flat["hit_rate"] is None
    assert flat["turnover"] == 0.0


@pytest.mark.parametrize(
    ("every", "period"), [("1d", "daily"), ("1w", "weekly"), ("1mo", "monthly"), ("1y", "yearly")]
)
def test_periods_per_year_follow_the_bar_length(
    nvda: tuple[pl.DataFrame, BacktestResult], every: str, period: str
) -> None:
    """Weekly bars were once annualised as daily ones (sqrt(5) too high a Sharpe)."""
    bars, _ = nvda
    stamps = bars.group_by_dynamic("ts", every=every).agg(pl.col("close").last())["ts"]
    assert m.periods_per_year(stamps) == ep.periods.ANNUALIZATION_FACTORS[period]
