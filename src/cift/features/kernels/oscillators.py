"""Kernels of bounded oscillators and price oscillators (TA-Lib conventions).

Each follows TA-Lib's arithmetic step for step (its running sums, its order of
operations, its zero tests with ``TA_EPSILON`` = 1e-14), so outputs agree to rounding.
Rolling highs and lows use TA-Lib's scan: the extreme and the bar it came from are
kept, and the ring buffer is re-read only when that bar leaves the window.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from cift.features.kernels.ops import NAN, ema_next, ema_size, sma_next, sma_size

EPSILON = 1e-14  # TA-Lib's TA_EPSILON


@njit(cache=True, inline="always")
def is_zero(value: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO``: within 1e-14 of zero."""
    return -EPSILON < value < EPSILON


@njit(cache=True, inline="always")
def highest_next(
    buf: np.ndarray, n: int, pos: int, t: float, best: float, best_at: float, x: float
) -> tuple[float, float]:
    """Highest of the last ``n`` values once ``x`` (value number ``t``, from 0, already
    written at ``buf[pos]``) has joined them: (highest, its number)."""
    if t == 0.0 or x >= best:
        return x, t
    if best_at > t - n:
        return best, best_at
    best, best_at = x, t  # the old highest left: re-read the window, newest first
    slot = pos
    for age in range(1, n):
        slot = slot - 1 if slot > 0 else n - 1
        if buf[slot] > best:
            best, best_at = float(buf[slot]), t - age
    return best, best_at


@njit(cache=True, inline="always")
def lowest_next(
    buf: np.ndarray, n: int, pos: int, t: float, best: float, best_at: float, x: float
) -> tuple[float, float]:
    """Lowest of the last ``n`` values; the mirror of ``highest_next``."""
    if t == 0.0 or x <= best:
        return x, t
    if best_at > t - n:
        return best, best_at
    best, best_at = x, t
    slot = pos
    for age in range(1, n):
        slot = slot - 1 if slot > 0 else n - 1
        if buf[slot] < best:
            best, best_at = float(buf[slot]), t - age
    return best, best_at


@njit(cache=True, inline="always")
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def willr_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Williams' %R: -100·(HH-C)/(HH-LL) over ``n`` bars; 0 when the range is flat."""
    n = int(params[0])
    high, low, close = inputs[0], inputs[1], inputs[2]
    seen, pos = float(s[0]), int(s[1])
    hi, hi_at, lo, lo_at = float(s[2]), float(s[3]), float(s[4]), float(s[5])
    highs, lows = s[6 : 6 + n], s[6 + n : 6 + 2 * n]
    for i in range(high.shape[0]):
        highs[pos] = high[i]
        lows[pos] = low[i]
        hi, hi_at = highest_next(highs, n, pos, seen, hi, hi_at, high[i])
        lo, lo_at = lowest_next(lows, n, pos, seen, lo, lo_at, low[i])
        pos = pos + 1 if pos < n - 1 else 0
        seen += 1.0
        if seen < n:
            out[0, i] = NAN
            continue
        diff = (hi - lo) / -100.0
        out[0, i] = (hi - close[i]) / diff if diff != 0.0 else 0.0
    s[0], s[1], s[2], s[3], s[4], s[5] = seen, pos, hi, hi_at, lo, lo_at


def willr_state(params: np.ndarray) -> int:
    return 6 + 2 * int(params[0])


@njit(cache=True)
def stochrsi_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Stochastic RSI: fast %K of RSI(n) over ``fastk`` bars and its SMA %D over
    ``fastd``. %K is 0 when the RSI range is under 1e-12 (TA-Lib's zero test on the
    range / 100); both outputs appear once %D exists, as in TA-Lib."""
    n, fastk, fastd = int(params[0]), int(params[1]), int(params[2])
    x = inputs[0]
    count, previous, gain, loss = float(s[0]), float(s[1]), float(s[2]), float(s[3])
    seen, pos = float(s[4]), int(s[5])
    hi, hi_at, lo, lo_at = float(s[6]), float(s[7]), float(s[8]), float(s[9])
    total, d_count, d_pos = float(s[10]), float(s[11]), int(s[12])
    values = s[13 : 13 + fastk]
    d_buf = s[13 + fastk : 13 + fastk + fastd]
    for i in range(x.shape[0]):
        out[0, i] = NAN
        out[1, i] = NAN
        count, previous, gain, loss = wilder_gains_next(n, True, count, previous, gain, loss, x[i])
        if count < n + 1:
            continue
        both = gain + loss
        rsi = 100.0 * (gain / both) if not is_zero(both) else 0.0
        values[pos] = rsi
        hi, hi_at = highest_next(values, fastk, pos, seen, hi, hi_at, rsi)
        lo, lo_at = lowest_next(values, fastk, pos, seen, lo, lo_at, rsi)
        pos = pos + 1 if pos < fastk - 1 else 0
        seen += 1.0
        if seen < fastk:
            continue
        diff = (hi - lo) / 100.0
        k = (rsi - lo) / diff if not is_zero(diff) else 0.0  # TA-Lib's STOCHF test
        total, d_count, d_pos, d = sma_next(d_buf, fastd, total, d_count, d_pos, k)
        if not math.isnan(d):
            out[0, i] = k
            out[1, i] = d
    s[0], s[1], s[2], s[3] = count, previous, gain, loss
    s[4], s[5], s[6], s[7], s[8], s[9] = seen, pos, hi, hi_at, lo, lo_at
    s[10], s[11], s[12] = total, d_count, d_pos


def stochrsi_state(params: np.ndarray) -> int:
    """Gains, the %K window and the %D average, laid out as ``stochrsi_kernel`` reads."""
    fastk, fastd = int(params[1]), int(params[2])
    return 10 + int(sma_size(fastd)) + fastk


@njit(cache=True, inline="always")
def true_terms(high: float, low: float, close: float, previous: float) -> tuple[float, float]:
    """ULTOSC's buying pressure C - min(L, C₋₁) and true range of one bar."""
    pressure = close - min(low, previous)
    span = high - low
    span = max(span, abs(previous - high))
    return pressure, max(span, abs(previous - low))


@njit(cache=True)
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
    for i in range(high.shape[0]):
        out[0, i] = NAN
        if t == 0.0:
            t, previous = 1.0, close[i]
            continue
        a, b = true_terms(high[i], low[i], close[i], previous)
        previous = close[i]
        if t > p3:  # bars leaving each window (TA-Lib adds only the bars of each window)
            at1, at2 = pos - p1, pos - p2
            at1 += p3 if at1 < 0 else 0
            at2 += p3 if at2 < 0 else 0
            a1 -= pressures[at1]
            b1 -= ranges[at1]
            a2 -= pressures[at2]
            b2 -= ranges[at2]
            a3 -= pressures[pos]
            b3 -= ranges[pos]
        pressures[pos], ranges[pos] = a, b
        pos = pos + 1 if pos < p3 - 1 else 0
        if t > p3 - p1:
            a1 += a
            b1 += b
        if t > p3 - p2:
            a2 += a
            b2 += b
        a3 += a
        b3 += b
        t += 1.0
        if t <= p3:
            continue
        value = 0.0
        if not is_zero(b1):
            value += 4.0 * (a1 / b1)
        if not is_zero(b2):
            value += 2.0 * (a2 / b2)
        if not is_zero(b3):
            value += a3 / b3
        out[0, i] = 100.0 * (value / 7.0)
    s[0], s[1], s[2] = t, previous, pos
    s[3], s[4], s[5], s[6], s[7], s[8] = a1, b1, a2, b2, a3, b3


def ultosc_state(params: np.ndarray) -> int:
    return 9 + 2 * int(max(params[:3]))


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def oscillator_value(short: float, long: float, percent: bool) -> float:
    if math.isnan(long):
        return NAN
    if not percent:
        return short - long
    return ((short - long) / long) * 100.0 if not is_zero(long) else 0.0


@njit(cache=True)
def apo_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Absolute price oscillator."""
    price_oscillator(inputs, params, False, s, out)


@njit(cache=True)
def ppo_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Percentage price oscillator."""
    price_oscillator(inputs, params, True, s, out)


def oscillator_state(params: np.ndarray) -> int:
    """Six slots of totals or EMA state, then the two SMA windows."""
    return max(6, 2 * int(ema_size())) + int(params[0]) + int(params[1])


@njit(cache=True)
def bop_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Balance of power: (C - O)/(H - L); 0 when the bar has no range."""
    open_, high, low, close = inputs[0], inputs[1], inputs[2], inputs[3]
    for i in range(open_.shape[0]):
        span = high[i] - low[i]
        out[0, i] = 0.0 if span < EPSILON else (close[i] - open_[i]) / span


def bop_state(params: np.ndarray) -> int:
    return 0
