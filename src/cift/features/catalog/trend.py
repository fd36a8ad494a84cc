"""Trend, directional and channel indicators, named and parameterised like TA-Lib.

Each TA-Lib indicator equals TA-Lib to 1e-9 relative after its warm-up (TA-Lib's default
unstable periods, i.e. none); warm-up rows are null. ``keltner`` and ``donchian`` are
not in TA-Lib: they are built from TA-Lib's EMA and ATR and from rolling extremes.
The directional indicators take periods from 2 (TA-Lib's period-1 DM and DI are plain
one-bar ratios, not Wilder averages).
"""

from __future__ import annotations

from cift.features.catalog.technical import HLC, period, technical
from cift.features.kernels import channels as ch
from cift.features.kernels import regression as reg
from cift.features.kernels import smoothing as sm
from cift.features.kernels import trend as tr
from cift.features.spec import Param

HL = ("high", "low")

technical(
    "plus_dm",
    tr.plus_dm_kernel,
    tr.movement_state,
    (period(14),),
    "+DM: Wilder-smoothed upward directional movement (first value: the sum of n-1 bars).",
    inputs=HL,
)
technical(
    "minus_dm",
    tr.minus_dm_kernel,
    tr.movement_state,
    (period(14),),
    "-DM: Wilder-smoothed downward directional movement (first value: the sum of n-1 bars).",
    inputs=HL,
)
technical(
    "plus_di",
    tr.plus_di_kernel,
    tr.movement_state,
    (period(14),),
    "+DI: 100 · smoothed +DM / smoothed true range.",
    inputs=HLC,
)
technical(
    "minus_di",
    tr.minus_di_kernel,
    tr.movement_state,
    (period(14),),
    "-DI: 100 · smoothed -DM / smoothed true range.",
    inputs=HLC,
)
technical(
    "dx",
    tr.dx_kernel,
    tr.directional_state,
    (period(14),),
    "Directional movement index: 100 · |+DI - -DI| / (+DI + -DI).",
    inputs=HLC,
)
technical(
    "adx",
    tr.adx_kernel,
    tr.directional_state,
    (period(14),),
    "Average directional index: DX averaged over n bars, then Wilder-smoothed.",
    inputs=HLC,
)
technical(
    "adxr",
    tr.adxr_kernel,
    tr.directional_state,
    (period(14),),
    "ADX rating: the mean of today's ADX and the ADX n-1 bars earlier.",
    inputs=HLC,
)
technical(
    "sar",
    tr.sar_kernel,
    tr.sar_state,
    (
        Param("acceleration", 0.02, integer=False, minimum=0.0, description="AF step"),
        Param("maximum", 0.2, integer=False, minimum=0.0, description="AF cap"),
    ),
    "Parabolic stop and reverse.",
    inputs=HL,
)
technical(
    "aroon",
    ch.aroon_kernel,
    ch.aroon_state,
    (period(14),),
    "Aroon down and up: 100 · (n - bars since the lowest low / highest high) / n.",
    inputs=HL,
    outputs=("aroon_down", "aroon_up"),
)
technical(
    "aroonosc",
    ch.aroonosc_kernel,
    ch.aroon_state,
    (period(14),),
    "Aroon oscillator: Aroon up - Aroon down.",
    inputs=HL,
)
technical(
    "midpoint",
    ch.midpoint_kernel,
    ch.channel_state,
    (period(14),),
    "Midpoint of the highest and lowest value over n bars.",
)
technical(
    "midprice",
    ch.midprice_kernel,
    ch.channel_state,
    (period(14),),
    "Midpoint of the highest high and lowest low over n bars.",
    inputs=HL,
)
technical(
    "donchian",
    ch.donchian_kernel,
    ch.channel_state,
    (period(20, minimum=1),),
    "Donchian channel: highest high, middle and lowest low over n bars.",
    inputs=HL,
    outputs=("donchian_upper", "donchian_middle", "donchian_lower"),
)
technical(
    "keltner",
    ch.keltner_kernel,
    ch.keltner_state,
    (
        period(20, minimum=1),
        Param("multiplier", 2.0, integer=False, minimum=0.0, description="ATR multiples"),
        period(10, minimum=1, name="atr_period"),
    ),
    "Keltner channel: EMA(close, n) ± multiplier · ATR(atr_period).",
    inputs=HLC,
    outputs=("keltner_upper", "keltner_middle", "keltner_lower"),
)
for name, kernel, description in (
    ("linearreg", reg.linearreg_kernel, "Least-squares line over n bars, at the newest bar."),
    ("linearreg_slope", reg.linearreg_slope_kernel, "Slope of the least-squares line."),
    (
        "linearreg_intercept",
        reg.linearreg_intercept_kernel,
        "Least-squares line over n bars, at the oldest bar.",
    ),
    ("linearreg_angle", reg.linearreg_angle_kernel, "Slope of the least-squares line, degrees."),
    ("tsf", reg.tsf_kernel, "Time series forecast: the least-squares line one bar ahead."),
):
    technical(name, kernel, reg.regression_state, (period(14),), description)
technical(
    "kama",
    sm.kama_kernel,
    sm.kama_state,
    (period(30),),
    "Kaufman adaptive moving average (efficiency ratio over n bars, 2/30-bar EMA bounds).",
)
technical(
    "t3",
    sm.t3_kernel,
    sm.t3_state,
    (
        period(5, minimum=1),
        Param("vfactor", 0.7, integer=False, minimum=0.0, maximum=1.0, description="volume"),
    ),
    "Tillson T3: six chained EMAs weighted by the volume factor.",
)
technical(
    "trix",
    sm.trix_kernel,
    sm.trix_state,
    (period(30, minimum=1),),
    "TRIX: one-bar rate of change (percent) of a triple EMA.",
)
