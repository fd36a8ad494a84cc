"""Performance metrics of a backtest, with empyrical's conventions.

Returns are simple per-period returns of the equity curve; the first is measured
against the initial cash, so a loss on the first bar counts. Annualisation uses
``periods_per_year`` (252 for daily bars; 252 times the bars per session for intraday
bars, inferred from the curve). Drawdowns are measured from the initial cash too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from cift.backtest.engine import BacktestResult
from cift.backtest.events import bar_close_times
from cift.core.errors import ValidationError
from cift.model import Timeframe

TRADING_DAYS = 252


PERIODS_PER_YEAR = (52.0, 12.0, 4.0, 1.0)
"""Weekly, monthly, quarterly and yearly periods a year (empyrical's factors)."""


def periods_per_year(ts: pl.Series) -> float:
    """252 for daily bars, 252 x bars per session for intraday bars, and for bars longer
    than a day 52, 12, 4 or 1 (365.25 days over the usual spacing when it is none of
    those)."""
    if ts.len() < 2:
        return float(TRADING_DAYS)
    days = ts.dt.date().n_unique()
    if days < ts.len():
        return TRADING_DAYS * ts.len() / days
    gap = ts.sort().diff().drop_nulls().dt.total_seconds().median()
    spacing = float(gap) / 86_400.0 if gap is not None else 1.0  # type: ignore[arg-type]
    if spacing < 5.0:  # daily bars, weekends and holidays included
        return float(TRADING_DAYS)
    per_year = 365.25 / spacing
    nearest = min(PERIODS_PER_YEAR, key=lambda p: abs(p - per_year) / p)
    return nearest if abs(nearest - per_year) / nearest < 0.1 else per_year


def simple_returns(equity: np.ndarray, initial: float) -> np.ndarray:
    """Per-period returns; the first against the initial cash."""
    previous = np.concatenate(([initial], equity[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(previous != 0.0, equity / previous - 1.0, 0.0)


def total_return(returns: np.ndarray) -> float:
    return float(np.prod(1.0 + returns) - 1.0) if returns.size else math.nan


def annual_return(returns: np.ndarray, ppy: float) -> float:
    """Compound annual growth rate."""
    if returns.size == 0:
        return math.nan
    ending = 1.0 + total_return(returns)
    return float(ending ** (ppy / returns.size) - 1.0) if ending > 0 else -1.0


def annual_volatility(returns: np.ndarray, ppy: float) -> float:
    return _dispersion(returns) * math.sqrt(ppy) if returns.size > 1 else math.nan


def sharpe_ratio(returns: np.ndarray, ppy: float, risk_free: float = 0.0) -> float:
    if returns.size < 2:
        return math.nan
    excess = returns - risk_free
    return _ratio(float(np.mean(excess)), _dispersion(excess)) * math.sqrt(ppy)


def _dispersion(values: np.ndarray) -> float:
    """Sample deviation; exactly 0 for constant values (not a rounding residue)."""
    return 0.0 if values.min() == values.max() else float(np.std(values, ddof=1))


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` with IEEE signs for a zero denominator (0/0 is NaN)."""
    if denominator != 0.0:
        return numerator / denominator
    return math.copysign(math.inf, numerator) if numerator != 0.0 else math.nan


def downside_risk(returns: np.ndarray, ppy: float, required: float = 0.0) -> float:
    shortfall = np.minimum(returns - required, 0.0)
    return float(math.sqrt(np.mean(shortfall**2)) * math.sqrt(ppy)) if returns.size else math.nan


def sortino_ratio(returns: np.ndarray, ppy: float, required: float = 0.0) -> float:
    if returns.size < 2:
        return math.nan
    return _ratio(float(np.mean(returns - required)) * ppy, downside_risk(returns, ppy, required))


def drawdowns(equity: np.ndarray, initial: float) -> np.ndarray:
    """Fractional distance below the running peak (peak includes the initial cash)."""
    peaks = np.maximum.accumulate(np.concatenate(([initial], equity)))[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peaks > 0, equity / peaks - 1.0, 0.0)


def max_drawdown(equity: np.ndarray, initial: float) -> float:
    return float(min(drawdowns(equity, initial).min(initial=0.0), 0.0))


def longest_drawdown(underwater: np.ndarray) -> tuple[int, int]:
    """``(start, length)`` of the longest run of ``underwater`` periods."""
    flags = np.concatenate(([0], underwater.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(flags))
    begins, ends = edges[::2], edges[1::2]
    if not begins.size:
        return 0, 0
    longest = int(np.argmax(ends - begins))
    return int(begins[longest]), int(ends[longest] - begins[longest])


def calmar_ratio(annual: float, mdd: float) -> float:
    return annual / abs(mdd) if mdd < 0 else math.nan


def alpha_beta(returns: np.ndarray, benchmark: np.ndarray, ppy: float) -> tuple[float, float]:
    """Annualised Jensen alpha and beta against benchmark returns of the same periods."""
    if returns.size < 2:
        return math.nan, math.nan
    b = benchmark - benchmark.mean()
    var = float(np.dot(b, b))
    if var == 0.0:
        return math.nan, math.nan
    beta = float(np.dot(b, returns - returns.mean()) / var)
    alpha = float((1.0 + np.mean(returns - beta * benchmark)) ** ppy - 1.0)
    return alpha, beta


@dataclass(frozen=True)
class Metrics:
    """The headline numbers of one run (ratios as fractions, durations in days)."""

    start: str | None
    end: str | None
    periods: int
    periods_per_year: float
    initial_cash: float
    final_equity: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_periods: int
    max_drawdown_days: float
    turnover: float
    exposure: float
    average_gross_exposure: float
    trades: int
    hit_rate: float
    profit_factor: float
    average_trade: float
    average_win: float
    average_loss: float
    commission: float
    alpha: float
    beta: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN and infinities become ``None``."""
        return {k: _finite(v) for k, v in asdict(self).items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sampled(result: BacktestResult, every: str = "1m") -> BacktestResult:
    """``result`` with its equity marked once per ``every`` (the last mark of each interval).

    A run on trades and quotes has one equity point per event; its returns over
    irregular, sub-second intervals make annualised ratios meaningless.
    """
    curve = (
        result.equity.group_by_dynamic("ts", every=every)
        .agg(pl.col("equity", "cash", "gross_exposure").last())
        .select(result.equity.columns)
    )
    return replace(result, equity=curve)


def compute_metrics(
    result: BacktestResult,
    *,
    benchmark: pl.DataFrame | None = None,
    ppy: float | None = None,
) -> Metrics:
    """Metrics of ``result``; ``benchmark`` has ``ts`` and ``value`` (a price or NAV)."""
    curve = result.equity
    initial = float(result.config.initial_cash)
    ppy = ppy or periods_per_year(curve.get_column("ts"))
    returns = simple_returns(curve.get_column("equity").to_numpy(), initial)
    exposure, gross = _exposure(curve)
    alpha, beta = _alpha_beta(curve, returns, benchmark, ppy)
    return Metrics(
        **curve_stats(curve, initial, ppy),
        turnover=_turnover(result, curve.get_column("equity").to_numpy(), ppy),
        exposure=exposure,
        average_gross_exposure=gross,
        **trade_stats(result.trades),
        commission=float(result.fills.get_column("commission").sum())
        if result.fills.height
        else 0.0,
        alpha=alpha,
        beta=beta,
    )


def curve_stats(curve: pl.DataFrame, initial: float, ppy: float) -> dict[str, Any]:
    """The return and risk metrics of an equity curve (``ts``, ``equity``): a run's, or
    a benchmark's scaled to the same initial cash."""
    equity = curve.get_column("equity").to_numpy()
    returns = simple_returns(equity, initial)
    annual = annual_return(returns, ppy)
    mdd = max_drawdown(equity, initial)
    start, length = longest_drawdown(drawdowns(equity, initial) < 0)
    return {
        "start": _iso(curve, 0),
        "end": _iso(curve, -1),
        "periods": int(equity.size),
        "periods_per_year": ppy,
        "initial_cash": initial,
        "final_equity": float(equity[-1]) if equity.size else initial,
        "total_return": total_return(returns),
        "annual_return": annual,
        "annual_volatility": annual_volatility(returns, ppy),
        "sharpe": sharpe_ratio(returns, ppy),
        "sortino": sortino_ratio(returns, ppy),
        "calmar": calmar_ratio(annual, mdd),
        "max_drawdown": mdd,
        "max_drawdown_periods": length,
        "max_drawdown_days": _span_days(curve, start, length),
    }


def trade_stats(trades: pl.DataFrame) -> dict[str, Any]:
    """Hit rate, profit factor and average trade of the closed round trips."""
    pnl = trades.get_column("pnl").to_numpy() if trades.height else np.empty(0)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_loss = -float(losses.sum())
    return {
        "trades": int(pnl.size),
        "hit_rate": float(wins.size / pnl.size) if pnl.size else math.nan,
        "profit_factor": (float(wins.sum()) / gross_loss if gross_loss > 0 else math.inf)
        if pnl.size
        else math.nan,
        "average_trade": float(pnl.mean()) if pnl.size else math.nan,
        "average_win": float(wins.mean()) if wins.size else math.nan,
        "average_loss": float(losses.mean()) if losses.size else math.nan,
    }


def _iso(curve: pl.DataFrame, row: int) -> str | None:
    return curve.get_column("ts")[row].isoformat() if curve.height else None


def _span_days(curve: pl.DataFrame, start: int, length: int) -> float:
    if length == 0:
        return 0.0
    ts = curve.get_column("ts").cast(pl.Int64)
    first = ts[start - 1] if start > 0 else ts[start]
    last = ts[min(start + length, curve.height - 1)]
    return float((last - first) / 86_400e9)


def _turnover(result: BacktestResult, equity: np.ndarray, ppy: float) -> float:
    """Traded notional per year as a multiple of the average equity."""
    if not result.fills.height or not equity.size:
        return 0.0
    traded = float((result.fills["quantity"].abs() * result.fills["price"]).sum())
    years = equity.size / ppy
    average = float(np.mean(equity))
    return traded / average / years if average > 0 and years > 0 else math.nan


def _exposure(curve: pl.DataFrame) -> tuple[float, float]:
    """Share of periods with a position, and mean gross exposure over equity."""
    if not curve.height:
        return 0.0, 0.0
    gross = curve.get_column("gross_exposure").to_numpy()
    equity = curve.get_column("equity").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(equity > 0, np.abs(gross) / equity, 0.0)
    return float(np.mean(np.abs(gross) > 1e-12)), float(np.mean(ratio))


def _alpha_beta(
    curve: pl.DataFrame, returns: np.ndarray, benchmark: pl.DataFrame | None, ppy: float
) -> tuple[float, float]:
    if benchmark is None or curve.height < 3:
        return math.nan, math.nan
    if not {"ts", "value"} <= set(benchmark.columns):
        raise ValidationError("A benchmark needs columns ts and value (a price or NAV).")
    aligned = (
        curve.select("ts")
        .join_asof(benchmark.select("ts", "value").sort("ts"), on="ts", strategy="backward")
        .get_column("value")
        .to_numpy()
    )
    bench = aligned[1:] / aligned[:-1] - 1.0
    ok = np.isfinite(bench)
    return alpha_beta(returns[1:][ok], bench[ok], ppy)


def buy_and_hold(
    bars: pl.DataFrame, timeframe: Timeframe | None = None, calendar: str | None = None
) -> pl.DataFrame:
    """Equal-weight buy-and-hold NAV of the symbols in ``bars`` (``ts``, ``value``).

    Stamped at each bar's close as the equity curve is: open time plus ``timeframe``, or
    the session's close on ``calendar`` when that comes first.
    """
    opened = bars.get_column("ts").cast(pl.Int64).to_numpy()
    closes = pl.Series("ts", bar_close_times(opened, timeframe, calendar)).cast(bars.schema["ts"])
    return (
        bars.with_columns(closes)
        .sort("symbol", "ts")
        .with_columns((pl.col("close") / pl.col("close").first().over("symbol")).alias("nav"))
        .pivot(on="symbol", index="ts", values="nav")
        .sort("ts")
        .fill_null(strategy="forward")
        .select("ts", pl.mean_horizontal(pl.exclude("ts")).alias("value"))
    )
