"""Vectorised research mode: target positions from features, simulated in one pass.

A signal strategy maps features to a target fraction of equity per bar. The decision
made at a bar's close is traded at the next bar's open, as the event-driven engine does
for ``order_target_percent``: the position changes only when the target's side (long,
flat, short) differs from the side held, as the built-in strategies' ``on_bar`` decides,
sized at the open net of a proportional commission (whole shares unless fractional); an
order too small for one share leaves the position flat, to be tried again. One numba
pass per parameter set; features are computed once per distinct parameter value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.core.jit import njit
from cift.core.settings import Settings, get_settings
from cift.features.engine import compute
from cift.features.spec import parse_call
from cift.model import Timeframe
from cift.strategy.signal import SignalStrategy


@njit
def simulate(
    open_: np.ndarray,
    close: np.ndarray,
    target: np.ndarray,
    initial_cash: float,
    fee_rate: float,
    fractional: bool,
) -> tuple[np.ndarray, int]:
    """Equity at each bar's close, and the number of fills."""
    n = close.shape[0]
    equity = np.empty(n)
    cash, held, fills = initial_cash, 0.0, 0
    for t in range(n):
        if t > 0:
            wanted = target[t - 1]
            if not math.isnan(wanted) and np.sign(wanted) != np.sign(held):
                price = open_[t]
                if held != 0.0:  # close the current position first
                    cash += held * price - abs(held) * price * fee_rate
                    held = 0.0
                    fills += 1
                if wanted != 0.0:
                    # As order_target_percent: the fraction of equity at the fill price,
                    # cut to what the cash pays for with the commission.
                    quantity = abs(wanted) * cash / price
                    if quantity * price * (1.0 + fee_rate) > cash:
                        quantity = cash / (price * (1.0 + fee_rate))
                    if not fractional:
                        quantity = math.floor(quantity + 1e-9)
                    if quantity > 0:
                        side = 1.0 if wanted > 0 else -1.0
                        cash -= side * quantity * price + quantity * price * fee_rate
                        held = side * quantity
                        fills += 1
        equity[t] = cash + held * close[t]
    return equity, fills


@dataclass
class VectorResult:
    params: dict[str, Any]
    equity: pl.DataFrame
    fills: int


def _with_features(
    bars: pl.DataFrame,
    strategy: SignalStrategy,
    params: Mapping[str, Any],
    cache: dict[str, pl.Series],
    settings: Settings,
) -> pl.DataFrame:
    columns = []
    for name, text in strategy.features(params).items():
        if text not in cache:
            call = parse_call(f"x={text}")
            cache[text] = compute(bars, [call]).get_column("x")
        columns.append(cache[text].alias(name))
    frame = bars.with_columns(columns)
    if strategy.derived is None:
        return frame
    key = repr(("derived", *(params.get(name) for name in strategy.derived_inputs)))
    if key not in cache:
        cache[key] = pl.DataFrame(strategy.derived(params, bars, settings)).to_struct(key)
    return frame.with_columns(cache[key]).unnest(key)


def run_signal(
    bars: pl.DataFrame,
    timeframe: Timeframe,
    strategy: SignalStrategy,
    params: Mapping[str, Any],
    *,
    initial_cash: float = 100_000.0,
    fee_bps: float = 0.0,
    fractional: bool = False,
    cache: dict[str, pl.Series] | None = None,
    settings: Settings | None = None,
) -> VectorResult:
    """Simulate one parameter set on one symbol's bars (``settings``: where models live,
    for strategies that load one)."""
    if bars.get_column("symbol").n_unique() != 1:
        raise ValidationError("The vectorised mode runs one symbol at a time; filter the bars.")
    frame = _with_features(
        bars.sort("ts"),
        strategy,
        params,
        {} if cache is None else cache,
        settings or get_settings(),
    )
    target = frame.select(strategy.target(params).cast(pl.Float64).fill_null(math.nan)).to_series()
    equity, fills = simulate(
        frame.get_column("open").to_numpy(),
        frame.get_column("close").to_numpy(),
        target.to_numpy(),
        initial_cash,
        fee_bps / 10_000.0,
        fractional,
    )
    closes = frame.select(pl.col("ts") + pl.duration(nanoseconds=timeframe.nanos)).to_series()
    return VectorResult(dict(params), pl.DataFrame({"ts": closes, "equity": equity}), fills)


def run_grid(
    bars: pl.DataFrame,
    timeframe: Timeframe,
    strategy: SignalStrategy,
    grid: Iterable[Mapping[str, Any]],
    **options: Any,
) -> list[VectorResult]:
    """Simulate every parameter set, sharing features between sets."""
    cache: dict[str, pl.Series] = {}
    return [
        run_signal(bars, timeframe, strategy, params, cache=cache, **options) for params in grid
    ]
