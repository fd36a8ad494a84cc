"""Streaming building blocks shared by the kernels, following TA-Lib's arithmetic.

Each op keeps its state in a slice of a float64 vector ``s`` starting at offset ``o``
and returns its new output (NaN while it warms up). ``*_size`` gives the slots it needs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

NAN = np.nan


@njit(cache=True, inline="always")
def window_size(n: int) -> int:
    """Slots of a ring buffer of ``n`` values: [count, position, values...]."""
    return 2 + n


@njit(cache=True, inline="always")
def window_push(s: np.ndarray, o: int, n: int, x: float) -> float:
    """Append ``x``; return the value that left the window (NaN until it is full)."""
    count = float(s[o])
    pos = int(s[o + 1])
    leaving = float(s[o + 2 + pos]) if count >= n else NAN
    s[o + 2 + pos] = x
    s[o + 1] = (pos + 1) % n
    s[o] = count + 1
    return leaving


@njit(cache=True, inline="always")
def window_full(s: np.ndarray, o: int, n: int) -> bool:
    return bool(s[o] >= n)


@njit(cache=True, inline="always")
def window_at(s: np.ndarray, o: int, n: int, age: int) -> float:
    """The value pushed ``age`` steps ago (0 = the newest)."""
    pos = int(s[o + 1])
    return float(s[o + 2 + (pos - 1 - age) % n])


@njit(cache=True, inline="always")
def window_max(s: np.ndarray, o: int, n: int) -> float:
    best = float(s[o + 2])
    for i in range(1, n):
        best = max(best, float(s[o + 2 + i]))
    return best


@njit(cache=True, inline="always")
def window_min(s: np.ndarray, o: int, n: int) -> float:
    best = float(s[o + 2])
    for i in range(1, n):
        best = min(best, float(s[o + 2 + i]))
    return best


@njit(cache=True, inline="always")
def sma_size(n: int) -> int:
    return 1 + window_size(n)


@njit(cache=True, inline="always")
def sma_step(s: np.ndarray, o: int, n: int, x: float) -> float:
    """Simple moving average of the last ``n`` values (TA-Lib's running total: the value
    leaving the window is taken off before the new one is added)."""
    leaving = window_push(s, o + 1, n, x)
    total = float(s[o])
    if not math.isnan(leaving):  # the window was already full
        total -= leaving
    total += x
    s[o] = total
    return total / n if window_full(s, o + 1, n) else NAN


@njit(cache=True, inline="always")
def ema_size() -> int:
    return 3  # count, running total for the seed, current value


@njit(cache=True, inline="always")
def ema_step(s: np.ndarray, o: int, n: int, k: float, x: float) -> float:
    """EMA with factor ``k`` seeded with the mean of the first ``n`` values (TA-Lib)."""
    count = float(s[o]) + 1.0
    s[o] = count
    if count < n:
        s[o + 1] += x
        return NAN
    if count == n:
        s[o + 2] = (s[o + 1] + x) / n
        return float(s[o + 2])
    s[o + 2] = ((x - s[o + 2]) * k) + s[o + 2]
    return float(s[o + 2])


@njit(cache=True, inline="always")
def wilder_step(s: np.ndarray, o: int, n: int, x: float) -> float:
    """Wilder's smoothing: seed with the mean of the first ``n`` values, then
    ``(prev * (n - 1) + x) / n`` (TA-Lib's RSI and ATR)."""
    count = float(s[o]) + 1.0
    s[o] = count
    if count < n:
        s[o + 1] += x
        return NAN
    if count == n:
        s[o + 2] = (s[o + 1] + x) / n
        return float(s[o + 2])
    s[o + 2] = (s[o + 2] * (n - 1) + x) / n
    return float(s[o + 2])


@njit(cache=True, inline="always")
def variance_size(n: int) -> int:
    return 5 + window_size(n)


@njit(cache=True, inline="always")
def variance_step(s: np.ndarray, o: int, n: int, x: float) -> float:
    """Population variance of the last ``n`` values.

    Slot ``o`` keeps TA-Lib's running total, so ``s[o] / n`` is exactly its SMA. The
    variance comes from sums of deviations from an anchor value near the data, which
    are recomputed from the window every ``n`` steps: no catastrophic cancellation on
    flat or high-priced series, and O(1) work per row on average.
    """
    w = o + 5
    leaving = window_push(s, w, n, x)
    total = float(s[o])
    anchor = float(s[o + 1])
    if math.isnan(leaving):
        if s[w] == 1.0:
            anchor = x
            s[o + 1] = x
    else:
        total -= leaving
        s[o + 2] -= leaving - anchor
        s[o + 3] -= (leaving - anchor) * (leaving - anchor)
    total += x
    s[o] = total
    s[o + 2] += x - anchor
    s[o + 3] += (x - anchor) * (x - anchor)
    s[o + 4] += 1.0
    if not window_full(s, w, n):
        return NAN
    if s[o + 4] >= n:
        _reanchor(s, o, n, x)
    mean = s[o + 2] / n
    variance = s[o + 3] / n - mean * mean
    return float(variance) if variance > 0.0 else 0.0


@njit(cache=True, inline="always")
def _reanchor(s: np.ndarray, o: int, n: int, anchor: float) -> None:
    """Recompute the deviation sums from the window around a new anchor."""
    first = 0.0
    second = 0.0
    for i in range(n):
        d = s[o + 5 + 2 + i] - anchor
        first += d
        second += d * d
    s[o + 1] = anchor
    s[o + 2] = first
    s[o + 3] = second
    s[o + 4] = 0.0
