"""Kernels of momentum, oscillator, range and volume indicators (TA-Lib conventions)."""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import (
    NAN,
    ema_next,
    ema_size,
    sma_size,
    sma_step,
    wilder_next,
    window_at,
    window_full,
    window_max,
    window_min,
    window_push,
    window_size,
)

# State slots shared by kernels that remember the previous bar.
SEEN, PREV = 0, 1


@njit
def rsi_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Wilder's RSI: 100·G/(G+L) of smoothed gains and losses; 0 when both are 0."""
    n = int(params[0])
    x = inputs[0]
    seen, previous = s[SEEN], float(s[PREV])
    g_count, g_seed, gain = float(s[2]), float(s[3]), float(s[4])
    l_count, l_seed, loss = float(s[5]), float(s[6]), float(s[7])
    for i in range(x.shape[0]):
        out[0, i] = NAN
        if seen == 0:
            seen = 1
            previous = x[i]
            continue
        change = x[i] - previous
        previous = x[i]
        g_count, g_seed, gain, g = wilder_next(
            n, g_count, g_seed, gain, change if change > 0 else 0.0
        )
        l_count, l_seed, loss, _ = wilder_next(
            n, l_count, l_seed, loss, -change if change < 0 else 0.0
        )
        if not math.isnan(g):
            total = gain + loss
            out[0, i] = 100.0 * (gain / total) if total != 0 else 0.0
    s[SEEN], s[PREV] = seen, previous
    s[2], s[3], s[4], s[5], s[6], s[7] = g_count, g_seed, gain, l_count, l_seed, loss


def rsi_state(params: np.ndarray) -> int:
    return 8


@njit
def macd_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """MACD line, signal and histogram. As in TA-Lib both averages start at row slow-1
    (the fast one seeded with the mean of its last ``fast`` rows) and all three outputs
    appear once the signal exists."""
    fast, slow, signal = int(params[0]), int(params[1]), int(params[2])
    if slow < fast:
        fast, slow = slow, fast
    k_fast, k_slow, k_signal = 2.0 / (fast + 1), 2.0 / (slow + 1), 2.0 / (signal + 1)
    x = inputs[0]
    seen = float(s[0])
    sc, ss, sv = float(s[1]), float(s[2]), float(s[3])
    fc, fs, fv = float(s[4]), float(s[5]), float(s[6])
    gc, gs, gv = float(s[7]), float(s[8]), float(s[9])
    for i in range(x.shape[0]):
        out[0, i] = NAN
        out[1, i] = NAN
        out[2, i] = NAN
        seen += 1.0
        sc, ss, sv, slow_value = ema_next(slow, k_slow, sc, ss, sv, x[i])
        if seen <= slow - fast:
            continue
        fc, fs, fv, fast_value = ema_next(fast, k_fast, fc, fs, fv, x[i])
        if math.isnan(slow_value):
            continue
        line = fast_value - slow_value
        gc, gs, gv, signal_value = ema_next(signal, k_signal, gc, gs, gv, line)
        if not math.isnan(signal_value):
            out[0, i] = line
            out[1, i] = signal_value
            out[2, i] = line - signal_value
    s[0] = seen
    s[1], s[2], s[3], s[4], s[5], s[6] = sc, ss, sv, fc, fs, fv
    s[7], s[8], s[9] = gc, gs, gv


def macd_state(params: np.ndarray) -> int:
    return 1 + 3 * int(ema_size())


@njit(inline="always")
def true_range(s: np.ndarray, high: float, low: float, close: float) -> float:
    """max(H-L, |H-C₋₁|, |L-C₋₁|); NaN on the first bar. Keeps C in s[PREV]."""
    if s[SEEN] == 0:
        s[SEEN] = 1
        s[PREV] = close
        return NAN
    previous = float(s[PREV])
    s[PREV] = close
    result = high - low
    result = max(result, abs(high - previous))
    return max(result, abs(low - previous))


@njit
def trange_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    high, low, close = inputs[0], inputs[1], inputs[2]
    for i in range(high.shape[0]):
        out[0, i] = true_range(s, high[i], low[i], close[i])


@njit(inline="always")
def average_true_range(
    inputs: np.ndarray, n: int, normalized: bool, s: np.ndarray, out: np.ndarray
) -> None:
    high, low, close = inputs[0], inputs[1], inputs[2]
    seen, previous = s[SEEN], float(s[PREV])
    count, seed, atr = float(s[2]), float(s[3]), float(s[4])
    for i in range(high.shape[0]):
        out[0, i] = NAN
        if seen == 0:
            seen = 1
            previous = close[i]
            continue
        tr = max(high[i] - low[i], abs(high[i] - previous), abs(low[i] - previous))
        previous = close[i]
        count, seed, atr, value = wilder_next(n, count, seed, atr, tr)
        if math.isnan(value):
            continue
        if not normalized:
            out[0, i] = value
        else:
            out[0, i] = value / close[i] * 100.0 if close[i] != 0 else 0.0
    s[SEEN], s[PREV], s[2], s[3], s[4] = seen, previous, count, seed, atr


@njit
def atr_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Average true range, Wilder-smoothed: the first value is the mean of TR[1..n]."""
    average_true_range(inputs, int(params[0]), False, s, out)


@njit
def natr_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """ATR as a percentage of the close."""
    average_true_range(inputs, int(params[0]), True, s, out)


def atr_state(params: np.ndarray) -> int:
    return 5


@njit(inline="always")
def stochastic(
    inputs: np.ndarray,
    fastk: int,
    slowk: int,
    slowd: int,
    fast_only: bool,
    s: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fast %K over ``fastk`` bars (0 when the range is flat), then SMA smoothing; both
    outputs appear together, as in TA-Lib."""
    high, low, close = inputs[0], inputs[1], inputs[2]
    hi, lo = 0, window_size(fastk)
    k_at = 2 * window_size(fastk)
    d_at = k_at + sma_size(slowk)
    for i in range(high.shape[0]):
        out[0, i] = NAN
        out[1, i] = NAN
        window_push(s, hi, fastk, high[i])
        window_push(s, lo, fastk, low[i])
        if not window_full(s, hi, fastk):
            continue
        highest, lowest = window_max(s, hi, fastk), window_min(s, lo, fastk)
        spread = highest - lowest
        fast_k = (close[i] - lowest) / spread * 100.0 if spread != 0 else 0.0
        if fast_only:
            fast_d = sma_step(s, k_at, slowd, fast_k)
            if not math.isnan(fast_d):
                out[0, i] = fast_k
                out[1, i] = fast_d
            continue
        slow_k = sma_step(s, k_at, slowk, fast_k)
        if not math.isnan(slow_k):
            slow_d = sma_step(s, d_at, slowd, slow_k)
            if not math.isnan(slow_d):
                out[0, i] = slow_k
                out[1, i] = slow_d


@njit
def stoch_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """STOCH: slow %K = SMA(fast %K, slowk), slow %D = SMA(slow %K, slowd)."""
    stochastic(inputs, int(params[0]), int(params[1]), int(params[2]), False, s, out)


@njit
def stochf_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """STOCHF: fast %K and fast %D = SMA(fast %K, fastd)."""
    stochastic(inputs, int(params[0]), int(params[1]), int(params[1]), True, s, out)


def stoch_state(params: np.ndarray) -> int:
    fastk, slowk, slowd = int(params[0]), int(params[1]), int(params[-1])
    return int(2 * window_size(fastk) + sma_size(slowk) + sma_size(slowd))


@njit
def obv_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """On-balance volume: starts at the first volume, then ± volume on up and down closes."""
    close, volume = inputs[0], inputs[1]
    seen, previous, total = s[SEEN], float(s[PREV]), float(s[2])
    for i in range(close.shape[0]):
        if seen == 0:
            seen = 1
            total = volume[i]
        elif close[i] > previous:
            total += volume[i]
        elif close[i] < previous:
            total -= volume[i]
        previous = close[i]
        out[0, i] = total
    s[SEEN], s[PREV], s[2] = seen, previous, total


@njit(inline="always")
def change(inputs: np.ndarray, n: int, mode: int, s: np.ndarray, out: np.ndarray) -> None:
    """Change over ``n`` bars. ``mode``: 0 MOM (x-xₙ), 1 ROC (100·(x/xₙ-1)),
    2 ROCP ((x-xₙ)/xₙ), 3 ROCR (x/xₙ), 4 ROCR100 (100·x/xₙ); 0 when xₙ is 0."""
    x = inputs[0]
    for i in range(x.shape[0]):
        window_push(s, 0, n + 1, x[i])
        out[0, i] = NAN
        if not window_full(s, 0, n + 1):
            continue
        before = window_at(s, 0, n + 1, n)
        if mode == 0:
            out[0, i] = x[i] - before
        elif before != 0:
            if mode == 1:
                out[0, i] = ((x[i] / before) - 1.0) * 100.0
            elif mode == 2:
                out[0, i] = (x[i] - before) / before
            elif mode == 3:
                out[0, i] = x[i] / before
            else:
                out[0, i] = (x[i] / before) * 100.0
        else:
            out[0, i] = 0.0


@njit
def mom_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    change(inputs, int(params[0]), 0, s, out)


@njit
def roc_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    change(inputs, int(params[0]), 1, s, out)


@njit
def rocp_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    change(inputs, int(params[0]), 2, s, out)


@njit
def rocr_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    change(inputs, int(params[0]), 3, s, out)


@njit
def rocr100_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    change(inputs, int(params[0]), 4, s, out)


def change_state(params: np.ndarray) -> int:
    return int(window_size(int(params[0]) + 1))
