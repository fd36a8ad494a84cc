"""Sweep trials: one parameter set run on (a window of) the data and scored.

A trial runs on the vectorised mode where that reproduces the event-driven engine (a
strategy with a vectorised form, one symbol of bars, long-only fully invested targets,
proportional commission, no slippage or latency) and on the engine otherwise. A
:class:`Job` can cut the data at ``end`` and measure from ``start``: the strategy runs on
every bar before ``end`` (so its indicators are warm) and only the returns of bars opened
at or after ``start`` are scored, against the equity held just before it. That is how a
walk-forward window is measured without reading a bar past its end.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from cift.backtest.choices import ENGINES, Engine
from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps, NoCommission, NoSlippage
from cift.backtest.engine import run_backtest
from cift.backtest.metrics import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    max_drawdown,
    periods_per_year,
    sampled,
    sharpe_ratio,
    simple_returns,
    sortino_ratio,
    total_return,
)
from cift.backtest.overfitting import moments, per_period_sharpe
from cift.backtest.spec import Inputs
from cift.backtest.vector import run_signal
from cift.core.errors import CiftError, ValidationError
from cift.strategy.base import Strategy
from cift.strategy.registry import get_strategy
from cift.strategy.signal import SignalStrategy


@dataclass(frozen=True)
class Score:
    """What a trial is ranked on (ratios annualised, fractions of equity)."""

    sharpe: float
    sortino: float
    calmar: float
    total_return: float
    annual_return: float
    annual_volatility: float
    max_drawdown: float
    trades: int
    periods: int
    periods_per_year: float
    period_sharpe: float
    """Per-period (not annualised) Sharpe ratio, as the DSR wants it."""
    skewness: float
    kurtosis: float

    def to_dict(self) -> dict[str, Any]:
        return {k: _finite(v) for k, v in asdict(self).items()}


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def score(returns: np.ndarray, ppy: float, trades: int) -> Score:
    """Metrics of per-period ``returns`` with the conventions of ``cift.backtest.metrics``."""
    growth = np.cumprod(1.0 + returns)
    annual = annual_return(returns, ppy)
    mdd = max_drawdown(growth, 1.0)
    skewness, kurtosis = moments(returns)
    return Score(
        sharpe=sharpe_ratio(returns, ppy),
        sortino=sortino_ratio(returns, ppy),
        calmar=calmar_ratio(annual, mdd),
        total_return=total_return(returns),
        annual_return=annual,
        annual_volatility=annual_volatility(returns, ppy),
        max_drawdown=mdd,
        trades=trades,
        periods=int(returns.size),
        periods_per_year=ppy,
        period_sharpe=per_period_sharpe(returns),
        skewness=skewness,
        kurtosis=kurtosis,
    )


@dataclass(frozen=True)
class Trial:
    """One evaluated parameter set; ``returns`` (ts, return) when the job asked for them."""

    index: int
    params: dict[str, Any]
    engine: str
    score: Score
    returns: pl.DataFrame | None = field(default=None, compare=False, repr=False)

    def metric(self, name: str) -> float:
        return float(getattr(self.score, name))

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "params": self.params, "engine": self.engine} | (
            self.score.to_dict()
        )


@dataclass(frozen=True)
class Skipped:
    """A combination that was not evaluated, and why."""

    index: int
    params: dict[str, Any]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params, "reason": self.reason}


def signal_of(cls: type[Strategy]) -> SignalStrategy | None:
    """The vectorised form a strategy's module exports as ``SIGNAL``, if any."""
    found = getattr(sys.modules.get(cls.__module__), "SIGNAL", None)
    return found if isinstance(found, SignalStrategy) and found.name == cls.name else None


def vector_blocker(
    cls: type[Strategy], params: Mapping[str, Any], config: BacktestConfig, inputs: Inputs
) -> str | None:
    """Why the vectorised mode would not reproduce the engine here (None: it would)."""
    if signal_of(cls) is None:
        return f"{cls.name} has no vectorised form"
    if inputs.bars is None or inputs.quotes is not None or inputs.trades is not None:
        return "the vectorised mode reads bars only"
    if inputs.timeframe is None or inputs.bars.get_column("symbol").n_unique() != 1:
        return "the vectorised mode runs one symbol of bars"
    if params.get("allow_short"):
        return "the vectorised mode matches the engine for long-only targets"
    commission = config.commission
    proportional = isinstance(commission, NoCommission) or (
        isinstance(commission, Bps) and commission.minimum == 0.0
    )
    plain = isinstance(config.slippage, NoSlippage) and config.latency_ns == 0
    account = config.account == "cash" and config.leverage == 1.0 and config.borrow_rate == 0.0
    if not (proportional and plain and account and config.participation is None):
        return (
            "the vectorised mode models a cash account with a proportional commission, "
            "without slippage, latency or volume limits"
        )
    return None


@dataclass(frozen=True)
class Job:
    """What every trial of a batch shares: strategy, settings and the data window."""

    strategy: str
    config: dict[str, Any]
    ppy: float
    engine: Engine = "auto"
    start: int | None = None
    """Score bars opened at or after this time (ns); None: from the first bar."""
    end: int | None = None
    """Use only bars opened before this time (ns); None: to the last bar."""
    curves: bool = False
    """Keep each trial's measured returns."""

    def check(self, inputs: Inputs, combos: Sequence[Mapping[str, Any]]) -> None:
        """Fail early on an unknown engine, or a forced vectorised mode that cannot run."""
        if self.engine not in ENGINES:
            raise ValidationError(f"Unknown engine {self.engine!r}; choose from {ENGINES}.")
        if self.engine != "vector":
            return
        cls = get_strategy(self.strategy)
        config = BacktestConfig.from_description(self.config)
        for params in combos:
            blocker = vector_blocker(
                cls, cls.parse_params(dict(params)).model_dump(), config, inputs
            )
            if blocker:
                raise ValidationError(f"Cannot use --engine vector for {dict(params)}: {blocker}.")


def cut(inputs: Inputs, end: int | None) -> Inputs:
    """``inputs`` with only the events before ``end`` (ns)."""
    if end is None:
        return inputs

    def before(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else frame.filter(pl.col("ts").cast(pl.Int64) < end)

    return replace(
        inputs, bars=before(inputs.bars), quotes=before(inputs.quotes), trades=before(inputs.trades)
    )


def timeline(inputs: Inputs) -> np.ndarray:
    """Sorted distinct event times (bar open times) of ``inputs``, in ns."""
    frames = [f for f in (inputs.bars, inputs.quotes, inputs.trades) if f is not None]
    stamps = pl.concat([f.select(pl.col("ts").cast(pl.Int64)) for f in frames])
    return stamps.get_column("ts").unique().sort().to_numpy()


def periods_per_year_of(inputs: Inputs) -> float:
    """Periods per year of the run's equity curve: once per bar, or per minute of events."""
    stamps = timeline(inputs)
    if inputs.timeframe is None:
        stamps = np.unique(stamps // 60_000_000_000 * 60_000_000_000)
    return periods_per_year(pl.Series("ts", stamps).cast(pl.Datetime("ns", "UTC")))


def evaluate(
    inputs: Inputs, job: Job, items: Sequence[tuple[int, dict[str, Any]]]
) -> list[Trial | Skipped]:
    """Run and score each ``(index, params)`` of a batch (a Dask task)."""
    cls = get_strategy(job.strategy)
    config = BacktestConfig.from_description(job.config)
    data = cut(inputs, job.end)
    caches: tuple[dict[str, pl.Series], dict[str, pl.Series]] = ({}, {})
    outcomes: list[Trial | Skipped] = []
    for index, params in items:
        full = cls.parse_params(params).model_dump()
        blocker = vector_blocker(cls, full, config, data)
        vector = job.engine == "vector" or (job.engine == "auto" and blocker is None)
        try:
            if vector:
                equity, stamps, trades = _vector(cls, full, config, data, job, caches)
            else:
                equity, stamps, trades = _event(cls, params, config, data, job)
        except CiftError as exc:
            outcomes.append(Skipped(index, params, exc.message))
            continue
        outcomes.append(
            _measure(index, params, "vector" if vector else "event", equity, stamps, trades, job)
        )
    return outcomes


Run = tuple[np.ndarray, np.ndarray, int]
"""Equity per period, the open time (ns) of each period's bar, trades closed in the window."""


def _event(
    cls: type[Strategy], params: dict[str, Any], config: BacktestConfig, data: Inputs, job: Job
) -> Run:
    result = run_backtest(
        cls,
        bars=data.bars,
        timeframe=data.timeframe,
        quotes=data.quotes,
        trades=data.trades,
        params=cls.parse_params(params),
        config=config,
    )
    if data.timeframe is None:
        result = sampled(result)
    shift = data.timeframe.nanos if data.timeframe is not None else 0
    stamps = result.equity.get_column("ts").cast(pl.Int64).to_numpy() - shift
    closed = result.trades
    if job.start is not None and closed.height:
        closed = closed.filter(pl.col("exit_ts").cast(pl.Int64) >= job.start)
    return result.equity.get_column("equity").to_numpy(), stamps, closed.height


def _vector(
    cls: type[Strategy],
    params: dict[str, Any],
    config: BacktestConfig,
    data: Inputs,
    job: Job,
    caches: tuple[dict[str, pl.Series], dict[str, pl.Series]],
) -> Run:
    signal, bars, timeframe = signal_of(cls), data.bars, data.timeframe
    assert signal is not None
    assert bars is not None
    assert timeframe is not None
    fee = config.commission.bps if isinstance(config.commission, Bps) else 0.0
    options: dict[str, Any] = {
        "initial_cash": config.initial_cash,
        "fee_bps": fee,
        "fractional": config.fractional,
    }
    run = run_signal(bars, timeframe, signal, params, cache=caches[0], **options)
    fills_before = 0
    if job.start is not None:
        earlier = bars.filter(pl.col("ts").cast(pl.Int64) < job.start)
        if earlier.height:
            fills_before = run_signal(
                earlier, timeframe, signal, params, cache=caches[1], **options
            ).fills
    # Long-only fills alternate open, close: the odd-numbered ones close a round trip.
    trades = run.fills // 2 - fills_before // 2
    stamps = run.equity.get_column("ts").cast(pl.Int64).to_numpy() - timeframe.nanos
    return run.equity.get_column("equity").to_numpy(), stamps, trades


def _measure(
    index: int,
    params: dict[str, Any],
    engine: str,
    equity: np.ndarray,
    stamps: np.ndarray,
    trades: int,
    job: Job,
) -> Trial:
    base = float(BacktestConfig.from_description(job.config).initial_cash)
    if job.start is not None:
        keep = stamps >= job.start
        if (~keep).any():
            base = float(equity[~keep][-1])
        equity, stamps = equity[keep], stamps[keep]
    returns = simple_returns(equity, base)
    curve = None
    if job.curves:
        curve = pl.DataFrame(
            {"ts": pl.Series(stamps).cast(pl.Datetime("ns", "UTC")), "return": returns}
        )
    return Trial(index, params, engine, score(returns, job.ppy, trades), curve)
