"""Kernels of bounded oscillators and price oscillators (TA-Lib conventions).

Each follows TA-Lib's arithmetic step for step (its running sums, its order of
operations, its zero tests with ``TA_EPSILON`` = 1e-14), so outputs agree to rounding.
Rolling highs and lows are exact, in O(1) per bar (van Herk/Gil-Werman blocks).
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ema_next, ema_size, sma_next, sma_size

EPSILON = 1e-14  # TA-Lib's TA_EPSILON


@njit(inline="always")
def is_zero(value: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO``: within 1e-14 of zero."""
    return -EPSILON < value < EPSILON


@njit(inline="always")
def range_next(
    highs: np.ndarray,
    lows: np.ndarray,
    high_tails: np.ndarray,
    low_tails: np.ndarray,
    n: int,
    at: int,
    top: float,
    bottom: float,
    high: float,
    low: float,
) -> tuple[int, float, float, float, float]:
    """Highest high and lowest low of the last ``n`` bars (van Herk/Gil-Werman).

    Bars fill blocks of ``n``; ``at`` is the slot of this bar in its block, ``top`` and
    ``bottom`` the extremes of the block so far. A window spans the end of the previous
    block, whose extremes from each slot to its end (``*_tails``) are computed once
    when it fills, and the start of this one. O(1) per bar, exact, no rescans. Returns
    (next slot, top, bottom, highest, lowest); meaningful from the ``n``-th bar on.
    """
    highs[at] = high
    lows[at] = low
    if at == 0:
        top, bottom = high, low
    else:
        top, bottom = max(top, high), min(bottom, low)
    if at < n - 1:
        return at + 1, top, bottom, max(high_tails[at + 1], top), min(low_tails[at + 1], bottom)
    highest, lowest = high, low
    for j in range(n - 1, -1, -1):
        highest, lowest = max(highest, highs[j]), min(lowest, lows[j])
        high_tails[j], low_tails[j] = highest, lowest
    return 0, top, bottom, top, bottom


def range_size(n: int) -> int:
    """Slots of ``range_next``'s four blocks."""
    return 4 * n


@njit(inline="always")
def wilder_gains_next(
    n: int, reciprocal: bool, count: float, previous: float, gain: float, loss: float, x: float
) -> tuple[float, float, float, float]:
    """Wilder-smoothed gains and losses as TA-Lib computes them: the mean of the first
    ``n`` changes, then ``(prev·(n-1) + change) / n`` (CMO), or times ``1/n`` with
    ``reciprocal`` (RSI). Returns (values seen, previous value, gain, loss); both are
    ready once ``n + 1`` values were seen."""
    count += 1.0
    if count == 1.0:
        return count, x, gain, loss
    change = x - previous
    if count > n + 1:
        gain *= n - 1
        loss *= n - 1
    if change < 0:
        loss -= change
    else:
        gain += change
    if count > n + 1 and reciprocal:
        gain *= 1.0 / n
        loss *= 1.0 / n
    elif count >= n + 1:
        gain /= n
        loss /= n
    return count, x, gain, loss


@njit
def cmo_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Chande momentum oscillator: 100·(G-L)/(G+L) of Wilder-smoothed gains and losses
    (TA-Lib's CMO, not Chande's plain sums); 0 when both are 0."""
    n = int(params[0])
    x = inputs[0]
    count, previous, gain, loss = float(s[0]), float(s[1]), float(s[2]), float(s[3])
    for i in range(x.shape[0]):
        count, previous, gain, loss = wilder_gains_next(n, False, count, previous, gain, loss, x[i])
        if count < n + 1:
            out[0, i] = NAN
            continue
        total = gain + loss
        out[0, i] = 100.0 * ((gain - loss) / total) if not is_zero(total) else 0.0
    s[0], s[1], s[2], s[3] = count, previous, gain, loss


def cmo_state(params: np.ndarray) -> int:
    return 4


@njit
def cci_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Commodity channel index of the typical price (H+L+C)/3: its distance from the
    window mean over 0.015 mean absolute deviations; 0 when either is 0."""
    n = int(params[0])
    high, low, close = inputs[0], inputs[1], inputs[2]
    seen, pos = float(s[0]), int(s[1])
    buf = s[2 : 2 + n]
    for i in range(high.shape[0]):
        typical = (high[i] + low[i] + close[i]) / 3
        buf[pos] = typical
        pos = pos + 1 if pos < n - 1 else 0
        seen += 1.0
        if seen < n:
            out[0, i] = NAN
            continue
        mean = 0.0
        for j in range(n):
            mean += buf[j]
        mean /= n
        spread = 0.0
        for j in range(n):
            spread += abs(buf[j] - mean)
        distance = typical - mean
        if is_zero(distance) or is_zero(spread):
            out[0, i] = 0.0
        else:
            out[0, i] = distance / (0.015 * (spread / n))
    s[0], s[1] = seen, pos


def cci_state(params: np.ndarray) -> int:
    return 2 + int(params[0])


@njit
def willr_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Williams' %R: -100·(HH-C)/(HH-LL) over ``n`` bars; 0 when the range is flat."""
    n = int(params[0])
    high, low, close = inputs[0], inputs[1], inputs[2]
    seen, at, top, bottom = float(s[0]), int(s[1]), float(s[2]), float(s[3])
    highs, lows = s[4 : 4 + n], s[4 + n : 4 + 2 * n]
    high_tails, low_tails = s[4 + 2 * n : 4 + 3 * n], s[4 + 3 * n : 4 + 4 * n]
    for i in range(high.shape[0]):
        at, top, bottom, highest, lowest = range_next(
            highs, lows, high_tails, low_tails, n, at, top, bottom, high[i], low[i]
        )
        seen += 1.0
        if seen < n:
            out[0, i] = NAN
            continue
        diff = (highest - lowest) / -100.0
        out[0, i] = (highest - close[i]) / diff if diff != 0.0 else 0.0
    s[0], s[1], s[2], s[3] = seen, at, top, bottom


def willr_state(params: np.ndarray) -> int:
    return 4 + range_size(int(params[0]))


@njit
def stochrsi_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Stochastic RSI: fast %K of RSI(n) over ``fastk`` bars and its SMA %D over
    ``fastd``. %K is 0 when the RSI range is under 1e-12 (TA-Lib's zero test on the
    range / 100); both outputs appear once %D exists, as in TA-Lib."""
    n, fastk, fastd = int(params[0]), int(params[1]), int(params[2])
    x = inputs[0]
    count, previous, gain, loss = float(s[0]), float(s[1]), float(s[2]), float(s[3])
    seen, at, top, bottom = float(s[4]), int(s[5]), float(s[6]), float(s[7])
    total, d_count, d_pos = float(s[8]), float(s[9]), int(s[10])
    d_buf = s[11 : 11 + fastd]
    base = 11 + fastd
    rsis, high_tails = s[base : base + fastk], s[base + fastk : base + 2 * fastk]
    low_tails = s[base + 2 * fastk : base + 3 * fastk]
    for i in range(x.shape[0]):
        out[0, i] = NAN
        out[1, i] = NAN
        count, previous, gain, loss = wilder_gains_next(n, True, count, previous, gain, loss, x[i])
        if count < n + 1:
            continue
        both = gain + loss
        rsi = 100.0 * (gain / both) if not is_zero(both) else 0.0
        at, top, bottom, highest, lowest = range_next(
            rsis, rsis, high_tails, low_tails, fastk, at, top, bottom, rsi, rsi
        )
        seen += 1.0
        if seen < fastk:
            continue
        diff = (highest - lowest) / 100.0
        k = (rsi - lowest) / diff if not is_zero(diff) else 0.0  # TA-Lib's STOCHF test
        total, d_count, d_pos, d = sma_next(d_buf, fastd, total, d_count, d_pos, k)
        if not math.isnan(d):
            out[0, i] = k
            out[1, i] = d
    s[0], s[1], s[2], s[3] = count, previous, gain, loss
    s[4], s[5], s[6], s[7] = seen, at, top, bottom
    s[8], s[9], s[10] = total, d_count, d_pos


def stochrsi_state(params: np.ndarray) -> int:
    """Gains, the %K window and the %D average, laid out as ``stochrsi_kernel`` reads."""
    fastk, fastd = int(params[1]), int(params[2])
    return 8 + int(sma_size(fastd)) + 3 * fastk


@njit(inline="always")
def true_terms(high: float, low: float, close: float, previous: float) -> tuple[float, float]:
    """ULTOSC's buying pressure C - min(L, C₋₁) and true range of one bar."""
    pressure = close - min(low, previous)
    span = high - low
    span = max(span, abs(previous - high))
    return pressure, max(span, abs(previous - low))


@njit(inline="always")
def ultimate(a1: float, b1: float, a2: float, b2: float, a3: float, b3: float) -> float:
    """100·(4·A₁/B₁ + 2·A₂/B₂ + A₃/B₃)/7, leaving out a term whose range sum is 0."""
    value = 0.0
    if not is_zero(b1):
        value += 4.0 * (a1 / b1)
    if not is_zero(b2):
        value += 2.0 * (a2 / b2)
    if not is_zero(b3):
        value += a3 / b3
    return 100.0 * (value / 7.0)


@njit
def ultosc_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Ultimate oscillator: 100·(4·A₁/B₁ + 2·A₂/B₂ + A₃/B₃)/7 of buying pressure (A) and
    true range (B) summed over the three periods, shortest weighted most (TA-Lib sorts
    them); a term is left out while its true-range sum is 0."""
    p = np.sort(params[:3])
    p1, p2, p3 = int(p[0]), int(p[1]), int(p[2])
    high, low, close = inputs[0], inputs[1], inputs[2]
    t, previous, pos = float(s[0]), float(s[1]), int(s[2])
    a1, b1, a2, b2 = float(s[3]), float(s[4]), float(s[5]), float(s[6])
    a3, b3 = float(s[7]), float(s[8])
    pressures, ranges = s[9 : 9 + p3], s[9 + p3 : 9 + 2 * p3]
    at1, at2 = pos - p1, pos - p2  # slots of the bars leaving the two shorter windows
    at1 += p3 if at1 < 0 else 0
    at2 += p3 if at2 < 0 else 0
    for i in range(high.shape[0]):
        if t == 0.0:
            t, previous = 1.0, close[i]
            out[0, i] = NAN
            continue
        a, b = true_terms(high[i], low[i], close[i], previous)
        previous = close[i]
        if t > p3:
            a1 = a1 - pressures[at1] + a
            b1 = b1 - ranges[at1] + b
            a2 = a2 - pressures[at2] + a
            b2 = b2 - ranges[at2] + b
            a3 = a3 - pressures[pos] + a
            b3 = b3 - ranges[pos] + b
        else:  # filling: TA-Lib adds to each window only the bars it will hold
            if t > p3 - p1:
                a1 += a
                b1 += b
            if t > p3 - p2:
                a2 += a
                b2 += b
            a3 += a
            b3 += b
        pressures[pos], ranges[pos] = a, b
        pos = pos + 1 if pos < p3 - 1 else 0
        at1 = at1 + 1 if at1 < p3 - 1 else 0
        at2 = at2 + 1 if at2 < p3 - 1 else 0
        t += 1.0
        if t <= p3:
            out[0, i] = NAN
            continue
        out[0, i] = ultimate(a1, b1, a2, b2, a3, b3)
    s[0], s[1], s[2] = t, previous, pos
    s[3], s[4], s[5], s[6], s[7], s[8] = a1, b1, a2, b2, a3, b3


def ultosc_state(params: np.ndarray) -> int:
    return 9 + 2 * int(max(params[:3]))


@njit(inline="always")
def price_oscillator(
    inputs: np.ndarray, params: np.ndarray, percent: bool, s: np.ndarray, out: np.ndarray
) -> None:
    """MA(shorter) - MA(longer), or that over MA(longer) in percent (0 when it is 0).
    ``params[2]``: 0 simple, 1 exponential averages, each computed as TA-Lib's own from
    the first bar (TA-Lib orders the periods)."""
    fast, slow = int(min(params[0], params[1])), int(max(params[0], params[1]))
    exponential = params[2] == 1.0
    x = inputs[0]
    if exponential:
        k_fast, k_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
        fc, fs, fv, sc, ss, sv = s[0], s[1], s[2], s[3], s[4], s[5]
        for i in range(x.shape[0]):
            fc, fs, fv, short = ema_next(fast, k_fast, fc, fs, fv, x[i])
            sc, ss, sv, long = ema_next(slow, k_slow, sc, ss, sv, x[i])
            out[0, i] = oscillator_value(short, long, percent)
        s[0], s[1], s[2], s[3], s[4], s[5] = fc, fs, fv, sc, ss, sv
        return
    f_buf, s_buf = s[6 : 6 + fast], s[6 + fast : 6 + fast + slow]
    f_total, f_count, f_pos = float(s[0]), float(s[1]), int(s[2])
    s_total, s_count, s_pos = float(s[3]), float(s[4]), int(s[5])
    for i in range(x.shape[0]):
        f_total, f_count, f_pos, short = sma_next(f_buf, fast, f_total, f_count, f_pos, x[i])
        s_total, s_count, s_pos, long = sma_next(s_buf, slow, s_total, s_count, s_pos, x[i])
        out[0, i] = oscillator_value(short, long, percent)
    s[0], s[1], s[2], s[3], s[4], s[5] = f_total, f_count, f_pos, s_total, s_count, s_pos


@njit(inline="always")
def oscillator_value(short: float, long: float, percent: bool) -> float:
    if math.isnan(long):
        return NAN
    if not percent:
        return short - long
    return ((short - long) / long) * 100.0 if not is_zero(long) else 0.0


@njit
def apo_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Absolute price oscillator."""
    price_oscillator(inputs, params, False, s, out)


@njit
def ppo_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Percentage price oscillator."""
    price_oscillator(inputs, params, True, s, out)


def oscillator_state(params: np.ndarray) -> int:
    """Six slots of totals or EMA state, then the two SMA windows."""
    return max(6, 2 * int(ema_size())) + int(params[0]) + int(params[1])


@njit
def bop_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Balance of power: (C - O)/(H - L); 0 when the bar has no range."""
    open_, high, low, close = inputs[0], inputs[1], inputs[2], inputs[3]
    for i in range(open_.shape[0]):
        span = high[i] - low[i]
        out[0, i] = 0.0 if span < EPSILON else (close[i] - open_[i]) / span


def bop_state(params: np.ndarray) -> int:
    return 0
