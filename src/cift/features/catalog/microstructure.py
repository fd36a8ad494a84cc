"""Microstructure features: prices and spreads from the quote, trading costs, liquidity
measures and volatility estimators (definitions and units in docs/microstructure.md).

Quote features take ``bid, ask`` (and sizes); trade-cost features take trades with the
prevailing quote attached (``cift.data.aggregate.with_prevailing_quote``); liquidity and
volatility features take bars (or trades, for Kyle's lambda).
"""

from __future__ import annotations

import numpy as np

from cift.features.kernels import microprice as mp
from cift.features.kernels import microstructure as ms
from cift.features.kernels import volatility as vol
from cift.features.spec import Check, FeatureSpec, Kernel, Param, StateSize, define, fixed_state

QUOTE = ("bid", "ask")
BOOK = ("bid", "ask", "bid_size", "ask_size")
TRADE_AT_QUOTE = ("price", "side", "bid", "ask")
OHLC = ("open", "high", "low", "close")


def window(default: int, minimum: int = 2, unit: str = "bars") -> Param:
    return Param("timeperiod", default, minimum=minimum, maximum=100_000, description=unit)


def switch(name: str, default: int, description: str) -> Param:
    return Param(name, default, minimum=0, maximum=1, description=description)


_stateless = fixed_state(0)


def _positive_tick(params: np.ndarray) -> str | None:
    return None if params[0] > 0 else "tick must be positive"


def microstructure(
    name: str,
    kernel: Kernel,
    state: StateSize,
    params: tuple[Param, ...],
    description: str,
    *,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...] | None = None,
    forward_looking: bool = False,
    check: Check | None = None,
) -> FeatureSpec:
    """Register a microstructure feature."""
    return define(
        "microstructure",
        name,
        kernel,
        state,
        params,
        description,
        inputs=inputs,
        outputs=outputs,
        forward_looking=forward_looking,
        check=check,
    )


microstructure("mid", ms.mid_kernel, _stateless, (), "Mid quote (bid + ask) / 2.", inputs=QUOTE)
microstructure(
    "quoted_spread",
    ms.quoted_spread_kernel,
    _stateless,
    (),
    "Quoted spread ask - bid, in price units and in basis points of the mid.",
    inputs=QUOTE,
    outputs=("quoted_spread", "quoted_spread_bps"),
)
microstructure(
    "weighted_mid",
    ms.weighted_mid_kernel,
    _stateless,
    (),
    "Size-weighted mid I·ask + (1 - I)·bid, I = bid_size / (bid_size + ask_size).",
    inputs=BOOK,
)
microstructure(
    "microprice",
    mp.microprice_kernel,
    mp.microprice_state,
    (
        Param("tick", 0.01, integer=False, description="price increment"),
        Param("imbalance_buckets", 10, minimum=2, maximum=20, description="buckets of I"),
        Param("spread_ticks", 2, minimum=1, maximum=5, description="widest spread modelled"),
        Param("refit", 500, minimum=10, maximum=10_000_000, description="transitions"),
    ),
    "Stoikov's micro-price: mid + expected mid move given imbalance and spread, "
    "from a Markov chain fitted on past quotes.",
    inputs=BOOK,
    check=_positive_tick,
)
microstructure(
    "effective_spread",
    ms.effective_spread_kernel,
    _stateless,
    (),
    "Effective spread 2·side·(price - mid) at the prevailing quote, and in bps of the mid.",
    inputs=TRADE_AT_QUOTE,
    outputs=("effective_spread", "effective_spread_bps"),
)
microstructure(
    "realized_spread",
    ms.realized_spread_kernel,
    _stateless,
    (Param("horizon", 300.0, integer=False, minimum=0.001, maximum=86_400.0, description="s"),),
    "Realized spread 2·side·(price - mid at t+horizon) and price impact "
    "2·side·(mid at t+horizon - mid); looks ahead.",
    inputs=("ts", *TRADE_AT_QUOTE),
    outputs=("realized_spread", "price_impact"),
    forward_looking=True,
)
microstructure(
    "kyle_lambda",
    ms.kyle_lambda_kernel,
    ms.kyle_lambda_state,
    (window(50, unit="trades"), switch("intercept", 1, "1 with intercept, 0 through 0")),
    "Kyle's lambda: OLS slope of the price change on signed size over the last n trades.",
    inputs=("price", "size", "side"),
)
microstructure(
    "amihud",
    ms.amihud_kernel,
    ms.rolling_state,
    (window(20, minimum=1), switch("log", 0, "1 for |log return|")),
    "Amihud illiquidity: mean |return| / (close·volume) over bars with volume, times 1e6.",
    inputs=("close", "volume"),
)
microstructure(
    "roll_spread",
    ms.roll_kernel,
    ms.roll_state,
    (window(20), Param("ddof", 1, minimum=0, maximum=1, description="0 or 1")),
    "Roll's implied spread 2·√(-cov(Δp, Δp₋₁)); null when the autocovariance is positive.",
    inputs=("close",),
)
microstructure(
    "corwin_schultz",
    ms.corwin_schultz_kernel,
    ms.corwin_schultz_state,
    (window(20, minimum=1),),
    "Corwin-Schultz high-low spread, mean of floored two-bar estimates (relative spread).",
    inputs=("high", "low", "close", "volume"),
)
microstructure(
    "realized_variance",
    vol.realized_variance_kernel,
    vol.realized_variance_state,
    (window(20, minimum=1, unit="returns"),),
    "Realized variance: sum of the last n squared log returns.",
    inputs=("close",),
)
microstructure(
    "bipower_variation",
    vol.bipower_kernel,
    vol.bipower_state,
    (window(20, unit="returns"), switch("correction", 0, "1 to scale by n/(n-1)")),
    "Bipower variation (π/2)·Σ|rᵢ||rᵢ₋₁| over the last n log returns, and the jump share "
    "max(RV - BV, 0) / RV.",
    inputs=("close",),
    outputs=("bipower_variation", "jump_share"),
)
microstructure(
    "parkinson",
    vol.parkinson_kernel,
    vol.window_state,
    (window(20, minimum=1),),
    "Parkinson variance per bar: mean(ln(H/L)²) / (4 ln 2).",
    inputs=("high", "low"),
)
microstructure(
    "garman_klass",
    vol.garman_klass_kernel,
    vol.window_state,
    (window(20, minimum=1),),
    "Garman-Klass variance per bar: mean(½ln(H/L)² - (2ln2 - 1)ln(C/O)²).",
    inputs=OHLC,
)
microstructure(
    "rogers_satchell",
    vol.rogers_satchell_kernel,
    vol.window_state,
    (window(20, minimum=1),),
    "Rogers-Satchell variance per bar: mean(ln(H/C)ln(H/O) + ln(L/C)ln(L/O)).",
    inputs=OHLC,
)
microstructure(
    "yang_zhang",
    vol.yang_zhang_kernel,
    vol.yang_zhang_state,
    (window(20),),
    "Yang-Zhang variance per bar: overnight + k·open-to-close + (1 - k)·Rogers-Satchell.",
    inputs=OHLC,
)
