"""The tearsheet's analysis, checked against quantstats on the same returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType

import numpy as np
import pandas as pd
import polars as pl
import pytest

from cift.backtest import analysis
from cift.backtest import metrics as m
from cift.backtest.engine import BacktestResult
from cift.model import Timeframe

INITIAL = 100_000.0


@pytest.fixture(scope="module")
def qs() -> ModuleType:
    """quantstats, the reference, imported by the tests that use it (it takes seconds)."""
    import quantstats

    return quantstats


@pytest.fixture(scope="module")
def daily(nvda: tuple[pl.DataFrame, BacktestResult]) -> analysis.ReportReturns:
    bars, result = nvda
    bench = m.buy_and_hold(bars, Timeframe.parse("1d"))  # stamped at the close, as equity
    return analysis.report_returns(
        analysis.benchmark_equity(result.equity, bench, INITIAL), INITIAL, 252.0
    )


def series(returns: analysis.ReportReturns, column: str) -> pd.Series:
    """A column as quantstats takes it: indexed by naive dates."""
    frame = returns.frame.to_pandas()
    index = pd.DatetimeIndex(frame["ts"]).tz_localize(None)
    return pd.Series(frame[column].to_numpy(), index=index, name=column)


def test_daily_bars_are_read_as_they_are(
    nvda: tuple[pl.DataFrame, BacktestResult], daily: analysis.ReportReturns
) -> None:
    _, result = nvda
    assert daily.daily
    assert daily.period == "day"
    assert daily.frame.height == result.equity.height
    expected = m.simple_returns(result.equity["equity"].to_numpy(), INITIAL)
    assert np.array_equal(daily.frame["strategy"].to_numpy(), expected)
    assert daily.frame["benchmark"][0] == 0.0  # the benchmark starts at the initial cash


def minute_curve(days: int, seed: int = 3) -> pl.DataFrame:
    """390 minute marks per weekday session, a random walk of equity."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    sessions = [start + timedelta(days=d) for d in range(days * 2)]
    sessions = [s for s in sessions if s.weekday() < 5][:days]
    ts = [s + timedelta(minutes=i) for s in sessions for i in range(390)]
    equity = INITIAL * np.cumprod(1 + rng.normal(0, 0.0005, len(ts)))
    return pl.DataFrame({"ts": ts, "equity": equity}).with_columns(
        pl.col("ts").dt.cast_time_unit("ns")
    )


def test_a_long_intraday_run_is_read_on_daily_returns() -> None:
    curve = minute_curve(61)  # 23,790 periods: the window once exceeded the run
    ppy = m.periods_per_year(curve["ts"])
    returns = analysis.report_returns(analysis.benchmark_equity(curve, None, INITIAL), INITIAL, ppy)
    assert returns.daily
    assert returns.periods_per_year == 252.0
    last = curve.to_pandas().set_index("ts")["equity"].resample("D").last().dropna()
    expected = pd.concat([pd.Series([INITIAL]), last.reset_index(drop=True)]).pct_change()
    assert np.allclose(returns.frame["strategy"].to_numpy(), expected.iloc[1:], rtol=1e-12)
    window = analysis.rolling_window(returns.frame.height, returns.periods_per_year)
    assert window == 61 // 4
    assert analysis.rolling_stats(returns, window)["sharpe"].drop_nulls().len() > 40


def test_a_short_intraday_run_keeps_its_periods() -> None:
    curve = minute_curve(5)
    ppy = m.periods_per_year(curve["ts"])
    returns = analysis.report_returns(analysis.benchmark_equity(curve, None, INITIAL), INITIAL, ppy)
    assert not returns.daily
    assert returns.period == "period"
    assert returns.frame.height == curve.height
    window = analysis.rolling_window(returns.frame.height, ppy)
    assert window == curve.height // 4
    assert analysis.rolling_window(7, ppy) is None


def test_distribution_matches_quantstats(daily: analysis.ReportReturns, qs: ModuleType) -> None:
    for column in ("strategy", "benchmark"):
        ours = analysis.distribution(daily, column)
        theirs = series(daily, column)
        assert ours["skew"] == pytest.approx(qs.stats.skew(theirs, prepare_returns=False))
        assert ours["kurtosis"] == pytest.approx(qs.stats.kurtosis(theirs, prepare_returns=False))
        assert ours["value_at_risk"] == pytest.approx(
            qs.stats.value_at_risk(theirs, prepare_returns=False)
        )
        assert ours["expected_shortfall"] == pytest.approx(
            qs.stats.conditional_value_at_risk(theirs, prepare_returns=False, method="historical")
        )
        for name, aggregate in (("period", None), ("month", "ME"), ("year", "YE")):
            kwargs = {"aggregate": aggregate, "prepare_returns": False}
            assert ours[f"best_{name}"] == pytest.approx(qs.stats.best(theirs, **kwargs))
            assert ours[f"worst_{name}"] == pytest.approx(qs.stats.worst(theirs, **kwargs))
            assert ours[f"winning_{name}s"] == pytest.approx(qs.stats.win_rate(theirs, **kwargs))


def test_periods_hold_only_months_with_data(daily: analysis.ReportReturns) -> None:
    months = analysis.monthly_table(daily.frame)
    stamps = daily.frame["ts"]
    first, last = stamps.min(), stamps.max()
    assert (months["year"].min(), months["month"][0]) == (first.year, first.month)  # type: ignore[union-attr]
    assert (months["year"].max(), months["month"][-1]) == (last.year, last.month)  # type: ignore[union-attr]
    expected = series(daily, "strategy").resample("ME").apply(lambda r: (1 + r).prod() - 1)
    assert np.allclose(months["return"].to_numpy(), expected.to_numpy(), rtol=1e-10)


def test_drawdown_spells_match_quantstats(
    nvda: tuple[pl.DataFrame, BacktestResult], qs: ModuleType
) -> None:
    _, result = nvda
    spells = analysis.drawdown_spells(result.equity, "equity", INITIAL)
    depth = m.drawdowns(result.equity["equity"].to_numpy(), INITIAL)
    index = pd.DatetimeIndex(result.equity["ts"].to_pandas()).tz_localize(None)
    details = qs.stats.drawdown_details(pd.Series(depth, index=index))
    assert spells.height == len(details)
    assert spells["depth"].min() == pytest.approx(
        m.max_drawdown(result.equity["equity"].to_numpy(), INITIAL)
    )
    ours = spells.sort("started").to_pandas()
    theirs = details.sort_values("start").reset_index(drop=True)
    started = pd.DatetimeIndex(ours["started"]).tz_localize(None)
    assert (
        started.strftime("%Y-%m-%d") == pd.to_datetime(theirs["start"]).dt.strftime("%Y-%m-%d")
    ).all()
    assert np.allclose(ours["depth"] * 100, theirs["max drawdown"], rtol=1e-9)
    # quantstats' end is the last day under water; the recovery is the next period
    recovered = ours["recovered"].dropna()
    ends = pd.to_datetime(theirs["end"]).iloc[: len(recovered)]
    after = {t.strftime("%Y-%m-%d"): i for i, t in enumerate(index)}
    for end, back in zip(ends, recovered, strict=True):
        assert after[back.strftime("%Y-%m-%d")] == after[end.strftime("%Y-%m-%d")] + 1
    assert spells["depth"].is_sorted()  # deepest first


def test_rolling_statistics_match_quantstats(daily: analysis.ReportReturns, qs: ModuleType) -> None:
    window = 126
    rolling = analysis.rolling_stats(daily, window)
    strategy, benchmark = series(daily, "strategy"), series(daily, "benchmark")
    assert rolling.height == daily.frame.height - window + 1
    sharpe = qs.stats.rolling_sharpe(strategy, rolling_period=window, prepare_returns=False)
    assert np.allclose(
        rolling["sharpe"].to_numpy(), sharpe.iloc[window - 1 :].to_numpy(), equal_nan=True
    )
    volatility = qs.stats.rolling_volatility(strategy, rolling_period=window, prepare_returns=False)
    assert np.allclose(rolling["volatility"].to_numpy(), volatility.iloc[window - 1 :].to_numpy())
    greeks = qs.stats.rolling_greeks(strategy, benchmark, periods=window, prepare_returns=False)
    beta, theirs = rolling["beta"].to_numpy(), greeks["beta"].iloc[window - 1 :].to_numpy()
    known = np.isfinite(theirs)
    assert np.allclose(beta[known], theirs[known])
    # quantstats' corr x std ratio is NaN out of the market; cov / var is 0 there
    flat = rolling["volatility"].to_numpy() == 0.0
    assert np.array_equal(~known, flat)
    assert flat.any()
    assert np.all(beta[flat] == 0.0)
    assert 0.3 < rolling["beta"].mean() < 0.8  # type: ignore[operator]  # in the market ~58%
