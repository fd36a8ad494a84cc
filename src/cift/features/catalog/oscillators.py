"""Oscillators and volume indicators, named and parameterised like TA-Lib (defaults
included), plus the session VWAP.

Each TA-Lib indicator equals TA-Lib to 1e-9 relative after its warm-up; warm-up rows
are null. APO and PPO take TA-Lib's ``matype`` (0 simple, 1 exponential) with TA-Lib's
default, exponential; other average types are not offered.
"""

from __future__ import annotations

from cift.features.catalog.technical import CLOSE, HLC, period, technical
from cift.features.kernels import oscillators as osc
from cift.features.kernels import volume as vol
from cift.features.spec import Param

HLCV = ("high", "low", "close", "volume")


def _matype(default: int) -> Param:
    return Param(
        "matype", default, minimum=0, maximum=1, description="0 simple, 1 exponential average"
    )


technical(
    "cci",
    osc.cci_kernel,
    osc.cci_state,
    (period(14),),
    "Commodity channel index: typical price against its mean, in 0.015 mean deviations.",
    inputs=HLC,
)
technical(
    "cmo",
    osc.cmo_kernel,
    osc.cmo_state,
    (period(14),),
    "Chande momentum oscillator of Wilder-smoothed gains and losses, -100..100.",
)
technical(
    "willr",
    osc.willr_kernel,
    osc.willr_state,
    (period(14),),
    "Williams' %R: where the close sits in the n-bar range, -100..0.",
    inputs=HLC,
)
technical(
    "stochrsi",
    osc.stochrsi_kernel,
    osc.stochrsi_state,
    (
        period(14),
        period(5, minimum=1, name="fastk_period"),
        period(3, minimum=1, name="fastd_period"),
    ),
    "Stochastic RSI: fast %K of RSI and its SMA %D.",
    outputs=("stochrsi_fastk", "stochrsi_fastd"),
)
technical(
    "ultosc",
    osc.ultosc_kernel,
    osc.ultosc_state,
    (
        period(7, minimum=1, name="timeperiod1"),
        period(14, minimum=1, name="timeperiod2"),
        period(28, minimum=1, name="timeperiod3"),
    ),
    "Ultimate oscillator: buying pressure over true range on three horizons, 4:2:1.",
    inputs=HLC,
)
technical(
    "apo",
    osc.apo_kernel,
    osc.oscillator_state,
    (period(12, name="fastperiod"), period(26, name="slowperiod"), _matype(1)),
    "Absolute price oscillator: fast average - slow average.",
    inputs=CLOSE,
)
technical(
    "ppo",
    osc.ppo_kernel,
    osc.oscillator_state,
    (period(12, name="fastperiod"), period(26, name="slowperiod"), _matype(1)),
    "Percentage price oscillator: (fast - slow) / slow average, in percent.",
    inputs=CLOSE,
)
technical(
    "bop",
    osc.bop_kernel,
    osc.bop_state,
    (),
    "Balance of power: (close - open) / (high - low).",
    inputs=("open", "high", "low", "close"),
)
technical(
    "mfi",
    vol.mfi_kernel,
    vol.mfi_state,
    (period(14),),
    "Money flow index: volume-weighted RSI of the typical price, 0..100.",
    inputs=HLCV,
)
technical(
    "ad",
    vol.ad_kernel,
    vol.ad_state,
    (),
    "Chaikin accumulation/distribution line.",
    inputs=HLCV,
)
technical(
    "adosc",
    vol.adosc_kernel,
    vol.adosc_state,
    (period(3, name="fastperiod"), period(10, name="slowperiod")),
    "Chaikin A/D oscillator: EMA(fast) - EMA(slow) of the A/D line.",
    inputs=HLCV,
)
technical(
    "vwap",
    vol.vwap_kernel,
    vol.vwap_state,
    (
        Param(
            "session_start",
            0,
            minimum=0,
            maximum=1439,
            description="minutes after midnight UTC at which each 24-hour session begins",
        ),
    ),
    "Session VWAP of the typical price (H+L+C)/3, restarted at each session "
    "(by default each UTC day). Named vwap_session: bars carry their own vwap column.",
    inputs=("ts", *HLCV),
    outputs=("vwap_session",),
)
