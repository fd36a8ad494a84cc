"""Technical indicators, named and parameterised like TA-Lib (defaults included).

Each equals TA-Lib to 1e-9 relative after its warm-up; warm-up rows are null.
Moving-average types other than TA-Lib's default (simple) are not offered.
"""

from __future__ import annotations

import numpy as np

from cift.features.kernels import averages as avg
from cift.features.kernels import momentum as mom
from cift.features.spec import Check, FeatureSpec, Kernel, Param, StateSize, define, fixed_state

CLOSE = ("close",)
HLC = ("high", "low", "close")


def period(default: int, minimum: int = 2, name: str = "timeperiod") -> Param:
    return Param(name, default, minimum=minimum, maximum=100_000, description="bars")


def _fast_below_slow(params: np.ndarray) -> str | None:
    return None if params[0] != params[1] else "fastperiod and slowperiod must differ"


def technical(
    name: str,
    kernel: Kernel,
    state: StateSize,
    params: tuple[Param, ...],
    description: str,
    *,
    inputs: tuple[str, ...] = CLOSE,
    outputs: tuple[str, ...] | None = None,
    check: Check | None = None,
) -> FeatureSpec:
    """Register a technical indicator."""
    return define(
        "technical",
        name,
        kernel,
        state,
        params,
        description,
        inputs=inputs,
        outputs=outputs,
        check=check,
    )


technical("sma", avg.sma_kernel, avg.sma_state, (period(30),), "Simple moving average.")
technical(
    "ema",
    avg.ema_kernel,
    avg.ema_state,
    (period(30),),
    "Exponential moving average, k = 2/(n+1), seeded with the SMA of the first n values.",
)
technical(
    "dema",
    avg.dema_kernel,
    avg.chained_ema_state(2),
    (period(30),),
    "Double EMA: 2·EMA - EMA(EMA).",
)
technical(
    "tema",
    avg.tema_kernel,
    avg.chained_ema_state(3),
    (period(30),),
    "Triple EMA: 3·EMA - 3·EMA(EMA) + EMA(EMA(EMA)).",
)
technical(
    "wma",
    avg.wma_kernel,
    avg.wma_state,
    (period(30),),
    "Linearly weighted moving average (newest weight n).",
)
technical(
    "trima",
    avg.trima_kernel,
    avg.trima_state,
    (period(30),),
    "Triangular moving average: an SMA of an SMA.",
)
technical(
    "var",
    avg.variance_kernel,
    avg.variance_state,
    (period(5, minimum=1), Param("nbdev", 1.0, integer=False)),
    "Population variance over the window (nbdev is accepted and ignored, as in TA-Lib).",
)
technical(
    "stddev",
    avg.stddev_kernel,
    avg.variance_state,
    (period(5), Param("nbdev", 1.0, integer=False)),
    "Population standard deviation times nbdev.",
)
technical(
    "bbands",
    avg.bbands_kernel,
    avg.variance_state,
    (period(5), Param("nbdevup", 2.0, integer=False), Param("nbdevdn", 2.0, integer=False)),
    "Bollinger bands: SMA ± nbdev population deviations.",
    outputs=("bbands_upper", "bbands_middle", "bbands_lower"),
)
technical(
    "zscore",
    avg.zscore_kernel,
    avg.variance_state,
    (period(20),),
    "Rolling z-score: (x - SMA) / population deviation; null when the window is flat.",
)
technical("rsi", mom.rsi_kernel, mom.rsi_state, (period(14),), "Wilder's relative strength index.")
technical(
    "macd",
    mom.macd_kernel,
    mom.macd_state,
    (
        period(12, name="fastperiod"),
        period(26, name="slowperiod"),
        period(9, minimum=1, name="signalperiod"),
    ),
    "MACD line, its signal EMA and the histogram (line - signal).",
    outputs=("macd", "macd_signal", "macd_hist"),
    check=_fast_below_slow,
)
technical("trange", mom.trange_kernel, fixed_state(2), (), "True range.", inputs=HLC)
technical(
    "atr",
    mom.atr_kernel,
    mom.atr_state,
    (period(14, minimum=1),),
    "Average true range (Wilder).",
    inputs=HLC,
)
technical(
    "natr",
    mom.natr_kernel,
    mom.atr_state,
    (period(14, minimum=1),),
    "Normalised ATR: 100 · ATR / close.",
    inputs=HLC,
)
technical(
    "stoch",
    mom.stoch_kernel,
    mom.stoch_state,
    (
        period(5, minimum=1, name="fastk_period"),
        period(3, minimum=1, name="slowk_period"),
        period(3, minimum=1, name="slowd_period"),
    ),
    "Slow stochastic: %K and %D, SMA-smoothed.",
    inputs=HLC,
    outputs=("stoch_slowk", "stoch_slowd"),
)
technical(
    "stochf",
    mom.stochf_kernel,
    mom.stoch_state,
    (period(5, minimum=1, name="fastk_period"), period(3, minimum=1, name="fastd_period")),
    "Fast stochastic: %K and its SMA %D.",
    inputs=HLC,
    outputs=("stochf_fastk", "stochf_fastd"),
)
technical(
    "obv", mom.obv_kernel, fixed_state(3), (), "On-balance volume.", inputs=("close", "volume")
)
technical(
    "mom",
    mom.mom_kernel,
    mom.change_state,
    (period(10, minimum=1),),
    "Momentum: x - x[n bars ago].",
)
technical(
    "roc",
    mom.roc_kernel,
    mom.change_state,
    (period(10, minimum=1),),
    "Rate of change in percent: 100 · (x / x[n] - 1).",
)
technical(
    "rocp",
    mom.rocp_kernel,
    mom.change_state,
    (period(10, minimum=1),),
    "Rate of change as a fraction: (x - x[n]) / x[n].",
)
technical(
    "rocr",
    mom.rocr_kernel,
    mom.change_state,
    (period(10, minimum=1),),
    "Rate of change as a ratio: x / x[n].",
)
technical(
    "rocr100",
    mom.rocr100_kernel,
    mom.change_state,
    (period(10, minimum=1),),
    "Rate of change as a ratio times 100.",
)
