"""What the tearsheet reads off a run: its returns beside the benchmark's, per month and
per year, its drawdown spells, rolling statistics and the shape of its returns.

The conventions are quantstats' report's, and the tests check them against quantstats: a
run of intraday bars over at least ``MIN_DAYS`` days is read on daily returns (the last
equity of each day), month and year returns are compounded, the value at risk is the
normal one at 95% and the expected shortfall the mean of the returns at or below their
5% quantile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from cift.backtest.engine import BacktestResult
from cift.backtest.metrics import TRADING_DAYS, Metrics, curve_stats, drawdowns, simple_returns

MIN_DAYS = 20
"""An intraday run over fewer days is read on its own periods (a daily series too short)."""
CONFIDENCE = 0.95
COLUMNS = ("strategy", "benchmark")


@dataclass(frozen=True)
class ReportReturns:
    """The returns the report is read on: ``ts``, ``strategy`` and, with a benchmark,
    ``benchmark`` (one row per day, or per period of the run), and the equity (and
    benchmark) values they are the returns of."""

    frame: pl.DataFrame
    values: pl.DataFrame
    periods_per_year: float
    daily: bool

    @property
    def columns(self) -> list[str]:
        return [name for name in COLUMNS if name in self.frame.columns]

    @property
    def period(self) -> str:
        """What one row is, in words."""
        return "day" if self.daily else "period"


def benchmark_equity(
    curve: pl.DataFrame, benchmark: pl.DataFrame | None, initial: float
) -> pl.DataFrame:
    """``ts``, ``equity`` and, with a benchmark, ``benchmark``: its value at each of the
    curve's times (the latest at or before), scaled to start at the initial cash."""
    values = curve.select("ts", "equity")
    if benchmark is None or not benchmark.height:
        return values
    joined = values.join_asof(
        benchmark.select("ts", "value").sort("ts"), on="ts", strategy="backward"
    )
    known = joined.get_column("value").drop_nulls()
    if not known.len():
        return values
    scaled = (pl.col("value") / known[0] * initial).fill_null(initial)
    return joined.select("ts", "equity", scaled.alias("benchmark"))


def report_returns(values: pl.DataFrame, initial: float, ppy: float) -> ReportReturns:
    """The returns of :func:`benchmark_equity`'s ``values``: daily for a long intraday run,
    else one per period of the run (``daily`` tells whether those periods are days)."""
    day = pl.col("ts").dt.date()
    days = values.select(day.n_unique()).item()
    if days < values.height and days >= MIN_DAYS:
        values = values.group_by(day.alias("_day"), maintain_order=True).last().drop("_day")
        ppy = float(TRADING_DAYS)
    gaps = values.get_column("ts").diff().drop_nulls()
    median = gaps.median() if gaps.len() else None
    one_a_day = bool(days == values.height)
    daily = one_a_day and median is not None and bool(median <= timedelta(days=1))  # type: ignore[operator]
    named = {"equity": "strategy", "benchmark": "benchmark"}
    frame = values.select(
        "ts",
        *(
            pl.Series(new, simple_returns(values.get_column(old).to_numpy(), initial))
            for old, new in named.items()
            if old in values.columns
        ),
    )
    return ReportReturns(frame, values, ppy, daily)


def period_returns(returns: pl.DataFrame, every: str) -> pl.DataFrame:
    """Each column's compounded return per calendar period (``1mo``, ``1y``), labelled by
    the period's start; only periods that hold data."""
    columns = [name for name in returns.columns if name != "ts"]
    return returns.group_by_dynamic("ts", every=every).agg(
        ((1.0 + pl.col(name)).product() - 1.0).alias(name) for name in columns
    )


def monthly_table(returns: pl.DataFrame) -> pl.DataFrame:
    """``year, month, return`` of the strategy column."""
    return period_returns(returns.select("ts", "strategy"), "1mo").select(
        pl.col("ts").dt.year().alias("year"),
        pl.col("ts").dt.month().alias("month"),
        pl.col("strategy").alias("return"),
    )


def drawdown_spells(values: pl.DataFrame, column: str, initial: float) -> pl.DataFrame:
    """Every spell under a previous peak, deepest first: ``started`` (first period under
    water), ``valley``, ``recovered`` (first period back at the peak, null while under
    water), ``depth`` and ``days`` (calendar days to the recovery, or to the end)."""
    depth = drawdowns(values.get_column(column).to_numpy(), initial)
    under = pl.col("depth") < 0
    frame = values.select("ts").with_columns(
        pl.Series("depth", depth),
        pl.col("ts").shift(-1).alias("after"),
    )
    last = frame.get_column("ts").max() if frame.height else None
    return (
        frame.with_columns((under & ~under.shift(1, fill_value=False)).cum_sum().alias("spell"))
        .filter(under)
        .group_by("spell")
        .agg(
            pl.col("ts").first().alias("started"),
            pl.col("ts").get(pl.col("depth").arg_min()).alias("valley"),
            pl.col("after").last().alias("recovered"),
            pl.col("depth").min(),
        )
        .with_columns(
            (
                (pl.col("recovered").fill_null(pl.lit(last)) - pl.col("started")).dt.total_seconds()
                / 86_400.0
            ).alias("days")
        )
        .sort("depth", "started")
        .drop("spell")
    )


def rolling_window(periods: int, ppy: float) -> int | None:
    """Half a year of periods (quantstats' 126 trading days), cut to a quarter of the run
    so the panel covers most of it; ``None`` for a run under 8 periods."""
    if periods < 8:
        return None
    return max(2, min(round(ppy / 2), periods // 4))


def rolling_stats(returns: ReportReturns, window: int) -> pl.DataFrame:
    """``ts``, annualised ``sharpe`` and ``volatility`` over the trailing ``window`` and,
    with a benchmark, its ``benchmark_volatility`` and the strategy's ``beta`` to it."""
    root = math.sqrt(returns.periods_per_year)
    s, b = pl.col("strategy"), pl.col("benchmark")
    stats = [
        (s.rolling_mean(window) / s.rolling_std(window) * root).alias("sharpe"),
        (s.rolling_std(window) * root).alias("volatility"),
    ]
    if "benchmark" in returns.columns:
        stats += [
            (b.rolling_std(window) * root).alias("benchmark_volatility"),
            (pl.rolling_cov(s, b, window_size=window) / b.rolling_var(window)).alias("beta"),
        ]
    frame = returns.frame.select("ts", *stats).slice(window - 1)
    return frame.with_columns(
        pl.when(pl.col(name).is_finite()).then(pl.col(name)).alias(name)
        for name in frame.columns[1:]
    )


def distribution(returns: ReportReturns, column: str) -> dict[str, Any]:
    """Skew, excess kurtosis, value at risk, expected shortfall, best and worst day (or
    period), month and year, and the share of winning ones among those that moved."""
    series = returns.frame.get_column(column)
    months = period_returns(returns.frame.select("ts", column), "1mo").get_column(column)
    years = period_returns(returns.frame.select("ts", column), "1y").get_column(column)
    stats: dict[str, Any] = {
        "skew": _number(series.skew(bias=False)),
        "kurtosis": _number(series.kurtosis(fisher=True, bias=False)),
        "value_at_risk": value_at_risk(series.to_numpy()),
        "expected_shortfall": expected_shortfall(series),
    }
    for name, values in (("period", series), ("month", months), ("year", years)):
        stats[f"best_{name}"] = _number(values.max())
        stats[f"worst_{name}"] = _number(values.min())
        stats[f"winning_{name}s"] = win_rate(values)
    return stats


def value_at_risk(returns: np.ndarray, confidence: float = CONFIDENCE) -> float:
    """The normal distribution's return at ``1 - confidence`` (mean and sample deviation)."""
    if returns.size < 2:
        return math.nan
    mean, deviation = float(np.mean(returns)), float(np.std(returns, ddof=1))
    if deviation == 0.0:
        return mean
    return NormalDist(mean, deviation).inv_cdf(1.0 - confidence)


def expected_shortfall(returns: pl.Series, confidence: float = CONFIDENCE) -> float:
    """The mean of the returns at or below their ``1 - confidence`` quantile."""
    if returns.len() < 2:
        return math.nan
    cut = returns.quantile(1.0 - confidence, interpolation="linear")
    return _number(returns.filter(returns <= cut).mean())


def win_rate(returns: pl.Series) -> float:
    """Winners among the returns that are not zero."""
    moved = returns.filter(returns != 0.0)
    return float((moved > 0).mean()) if moved.len() else math.nan  # type: ignore[arg-type]


def correlation(returns: ReportReturns) -> float:
    if "benchmark" not in returns.columns or returns.frame.height < 3:
        return math.nan
    return _number(returns.frame.select(pl.corr("strategy", "benchmark")).item())


def _number(value: Any) -> float:
    return float(value) if value is not None else math.nan


@dataclass(frozen=True)
class Analysis:
    """Everything the report shows, computed once from the run."""

    result: BacktestResult
    metrics: Metrics
    values: pl.DataFrame
    returns: ReportReturns
    benchmark_stats: dict[str, Any] | None
    spells: pl.DataFrame
    window: int | None

    @property
    def has_benchmark(self) -> bool:
        return "benchmark" in self.values.columns


def analyse(
    result: BacktestResult, metrics: Metrics, benchmark: pl.DataFrame | None = None
) -> Analysis:
    """The report's numbers: returns beside the benchmark's, drawdown spells, windows."""
    initial, ppy = metrics.initial_cash, metrics.periods_per_year
    values = benchmark_equity(result.equity, benchmark, initial)
    returns = report_returns(values, initial, ppy)
    bench = (
        curve_stats(values.select("ts", pl.col("benchmark").alias("equity")), initial, ppy)
        if "benchmark" in values.columns
        else None
    )
    return Analysis(
        result=result,
        metrics=metrics,
        values=values,
        returns=returns,
        benchmark_stats=bench,
        spells=drawdown_spells(returns.values, "equity", initial),
        window=rolling_window(returns.frame.height, returns.periods_per_year),
    )


def yearly_returns(report: Analysis) -> pl.DataFrame:
    """``year``, ``strategy`` and, with a benchmark, ``benchmark``, ``multiplier`` (the
    strategy's return over the benchmark's) and ``won``."""
    years = period_returns(report.returns.frame, "1y")
    frame = years.select(pl.col("ts").dt.year().alias("year"), *report.returns.columns)
    if not report.has_benchmark:
        return frame
    ratio = pl.col("strategy") / pl.col("benchmark")
    return frame.with_columns(
        pl.when(pl.col("benchmark") != 0).then(ratio).alias("multiplier"),
        (pl.col("strategy") > pl.col("benchmark")).alias("won"),
    )
