"""Kernels of volume indicators: money flow, accumulation/distribution and session VWAP.

MFI, AD and ADOSC follow TA-Lib's arithmetic step for step; the session VWAP is
cumulative within each session and starts over at each session's first bar.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN
from cift.features.kernels.oscillators import EPSILON

DAY_NS = 86_400_000_000_000.0
MINUTE_NS = 60_000_000_000.0


@njit
def mfi_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Money flow index: 100·positive/(positive + negative) money flow (typical price x
    volume) over ``n`` bars. As in TA-Lib a bar whose typical price did not move (within
    1e-14 of the two prices) carries no flow, a window without flow gives 0, and the
    sums are set to exactly 0 once a whole window carried none."""
    n = int(params[0])
    high, low, close, volume = inputs[0], inputs[1], inputs[2], inputs[3]
    seen, pos, previous = float(s[0]), int(s[1]), float(s[2])
    up, down, idle = float(s[3]), float(s[4]), float(s[5])
    ups, downs = s[6 : 6 + n], s[6 + n : 6 + 2 * n]
    for i in range(high.shape[0]):
        typical = (high[i] + low[i] + close[i]) / 3.0
        seen += 1.0
        if seen == 1.0:
            previous = typical
            out[0, i] = NAN
            continue
        up -= ups[pos]  # the ring starts as zeros: nothing leaves a window not yet full
        down -= downs[pos]
        move = typical - previous
        scale = abs(typical) + abs(previous)
        previous = typical
        flow = 0.0 if abs(move) <= EPSILON * scale else typical * volume[i]
        ups[pos] = 0.0 if move < 0.0 else flow
        downs[pos] = flow if move < 0.0 else 0.0
        up += ups[pos]
        down += downs[pos]
        idle = idle + 1.0 if flow == 0.0 else 0.0
        if idle >= n:
            idle, up, down = float(n), 0.0, 0.0
        pos = pos + 1 if pos < n - 1 else 0
        if seen <= n:
            out[0, i] = NAN
            continue
        total = up + down
        kept = 0.0 if up < 0.0 else min(up, total)
        out[0, i] = 0.0 if total <= 0.0 else 100.0 * (kept / total)
    s[0], s[1], s[2], s[3], s[4], s[5] = seen, pos, previous, up, down, idle


def mfi_state(params: np.ndarray) -> int:
    return 6 + 2 * int(params[0])


@njit(inline="always")
def ad_next(ad: float, high: float, low: float, close: float, volume: float) -> float:
    """Add one bar's close location value x volume; a bar without range adds nothing."""
    span = high - low
    if span > 0.0:
        ad += (close - low - (high - close)) / span * volume
    return ad


@njit
def ad_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Chaikin accumulation/distribution line, from 0 before the first bar."""
    high, low, close, volume = inputs[0], inputs[1], inputs[2], inputs[3]
    ad = float(s[0])
    for i in range(high.shape[0]):
        ad = ad_next(ad, high[i], low[i], close[i], volume[i])
        out[0, i] = ad
    s[0] = ad


def ad_state(params: np.ndarray) -> int:
    return 1


@njit
def adosc_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Chaikin oscillator: EMA(fast) - EMA(slow) of the A/D line, both seeded with the
    first A/D value (TA-Lib, like MetaStock); shown from bar max(fast, slow) - 1."""
    fast, slow = params[0], params[1]
    k_fast, k_slow = 2.0 / (fast + 1.0), 2.0 / (slow + 1.0)
    keep_fast, keep_slow = 1.0 - k_fast, 1.0 - k_slow
    warm = max(fast, slow)
    high, low, close, volume = inputs[0], inputs[1], inputs[2], inputs[3]
    seen, ad, fast_ema, slow_ema = float(s[0]), float(s[1]), float(s[2]), float(s[3])
    for i in range(high.shape[0]):
        ad = ad_next(ad, high[i], low[i], close[i], volume[i])
        seen += 1.0
        if seen == 1.0:
            fast_ema, slow_ema = ad, ad
        else:
            fast_ema = k_fast * ad + keep_fast * fast_ema
            slow_ema = k_slow * ad + keep_slow * slow_ema
        out[0, i] = fast_ema - slow_ema if seen >= warm else NAN
    s[0], s[1], s[2], s[3] = seen, ad, fast_ema, slow_ema


def adosc_state(params: np.ndarray) -> int:
    return 4


@njit
def vwap_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Session VWAP: Σ typical price x volume / Σ volume since the session's first bar.
    A session is the 24 hours from ``params[0]`` minutes after midnight UTC; null until
    the session has traded volume."""
    start = params[0] * MINUTE_NS
    ts, high, low, close, volume = inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]
    seen, session, value, size = float(s[0]), float(s[1]), float(s[2]), float(s[3])
    for i in range(ts.shape[0]):
        day = math.floor((ts[i] - start) / DAY_NS)
        if seen == 0.0 or day != session:
            seen, session, value, size = 1.0, day, 0.0, 0.0
        value += (high[i] + low[i] + close[i]) / 3.0 * volume[i]
        size += volume[i]
        out[0, i] = value / size if size > 0.0 else NAN
    s[0], s[1], s[2], s[3] = seen, session, value, size


def vwap_state(params: np.ndarray) -> int:
    return 4
