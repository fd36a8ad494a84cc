"""Streaming building blocks shared by the kernels, following TA-Lib's arithmetic.

Each block comes in two forms over the same arithmetic:

- ``*_next`` functions take their state as plain values (and a ring-buffer view) and
  return the new state and output. Kernels on hot paths load their state into locals,
  loop with these, and store it back once: the state stays in registers.
- ``*_step`` functions keep the state in a slice of a float64 vector ``s`` at offset
  ``o``; they are the convenient form where speed matters less.

Outputs are NaN while a block warms up. ``*_size`` gives the slots a block needs.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit

NAN = np.nan


@njit(inline="always")
def window_size(n: int) -> int:
    """Slots of a ring buffer of ``n`` values: [count, position, values...]."""
    return 2 + n


@njit(inline="always")
def ring_push(
    buf: np.ndarray, n: int, count: float, pos: int, x: float
) -> tuple[float, int, float]:
    """Append ``x`` to a ring buffer of ``n`` values; returns (count, position, the value
    that left the window, or NaN until the window is full)."""
    leaving = float(buf[pos]) if count >= n else NAN
    buf[pos] = x
    pos += 1
    if pos == n:
        pos = 0
    return count + 1.0, pos, leaving


@njit(inline="always")
def window_push(s: np.ndarray, o: int, n: int, x: float) -> float:
    """``ring_push`` on a ring buffer kept at ``s[o:]``."""
    count, pos, leaving = ring_push(s[o + 2 : o + 2 + n], n, float(s[o]), int(s[o + 1]), x)
    s[o] = count
    s[o + 1] = pos
    return leaving


@njit(inline="always")
def window_full(s: np.ndarray, o: int, n: int) -> bool:
    return bool(s[o] >= n)


@njit(inline="always")
def window_at(s: np.ndarray, o: int, n: int, age: int) -> float:
    """The value pushed ``age`` steps ago (0 = the newest)."""
    pos = int(s[o + 1])
    return float(s[o + 2 + (pos - 1 - age) % n])


@njit(inline="always")
def ring_max(buf: np.ndarray, n: int) -> float:
    best = float(buf[0])
    for i in range(1, n):
        best = max(best, float(buf[i]))
    return best


@njit(inline="always")
def ring_min(buf: np.ndarray, n: int) -> float:
    best = float(buf[0])
    for i in range(1, n):
        best = min(best, float(buf[i]))
    return best


@njit(inline="always")
def window_max(s: np.ndarray, o: int, n: int) -> float:
    return ring_max(s[o + 2 : o + 2 + n], n)


@njit(inline="always")
def window_min(s: np.ndarray, o: int, n: int) -> float:
    return ring_min(s[o + 2 : o + 2 + n], n)


@njit(inline="always")
def sma_size(n: int) -> int:
    """[total, count, position, values...]."""
    return 1 + window_size(n)


@njit(inline="always")
def sma_next(
    buf: np.ndarray, n: int, total: float, count: float, pos: int, x: float
) -> tuple[float, float, int, float]:
    """Simple moving average with TA-Lib's running total (the value leaving the window
    is taken off before the new one is added): (total, count, position, value)."""
    count, pos, leaving = ring_push(buf, n, count, pos, x)
    if not math.isnan(leaving):
        total -= leaving
    total += x
    return total, count, pos, (total / n if count >= n else NAN)


@njit(inline="always")
def sma_step(s: np.ndarray, o: int, n: int, x: float) -> float:
    total, count, pos, value = sma_next(
        s[o + 3 : o + 3 + n], n, float(s[o]), float(s[o + 1]), int(s[o + 2]), x
    )
    s[o] = total
    s[o + 1] = count
    s[o + 2] = pos
    return value


@njit(inline="always")
def ema_size() -> int:
    return 3  # count, running total for the seed, current value


@njit(inline="always")
def ema_next(
    n: int, k: float, count: float, seed: float, value: float, x: float
) -> tuple[float, float, float, float]:
    """EMA with factor ``k`` seeded with the mean of the first ``n`` values (TA-Lib):
    (count, seed total, value, output)."""
    count += 1.0
    if count < n:
        return count, seed + x, value, NAN
    if count == n:
        value = (seed + x) / n
        return count, seed, value, value
    value = ((x - value) * k) + value
    return count, seed, value, value


@njit(inline="always")
def ema_step(s: np.ndarray, o: int, n: int, k: float, x: float) -> float:
    count, seed, value, out = ema_next(n, k, float(s[o]), float(s[o + 1]), float(s[o + 2]), x)
    s[o] = count
    s[o + 1] = seed
    s[o + 2] = value
    return out


@njit(inline="always")
def wilder_next(
    n: int, count: float, seed: float, value: float, x: float
) -> tuple[float, float, float, float]:
    """Wilder's smoothing: seed with the mean of the first ``n`` values, then
    ``(prev * (n - 1) + x) / n`` (TA-Lib's RSI and ATR): (count, seed, value, output)."""
    count += 1.0
    if count < n:
        return count, seed + x, value, NAN
    if count == n:
        value = (seed + x) / n
        return count, seed, value, value
    # Multiplying by 1/n (hoisted out of loops) instead of dividing keeps this recursion
    # off the divider's latency; it stays within an ulp per step of TA-Lib's division.
    value = (value * (n - 1) + x) * (1.0 / n)
    return count, seed, value, value


@njit(inline="always")
def wilder_step(s: np.ndarray, o: int, n: int, x: float) -> float:
    count, seed, value, out = wilder_next(n, float(s[o]), float(s[o + 1]), float(s[o + 2]), x)
    s[o] = count
    s[o + 1] = seed
    s[o + 2] = value
    return out


@njit(inline="always")
def variance_size(n: int) -> int:
    """[total, anchor, deviation sum, squared deviation sum, steps since anchoring,
    count, position, values...]."""
    return 5 + window_size(n)


@njit
def variance_block(
    x: np.ndarray, n: int, s: np.ndarray, o: int, variance: np.ndarray, mean: np.ndarray
) -> None:
    """Population variance (and TA-Lib's SMA) of the last ``n`` values at every row of
    ``x``, continuing from the state at ``s[o:]`` (see ``variance_size``).

    The running total is TA-Lib's, so ``mean`` is exactly its SMA. The variance comes
    from sums of deviations from an anchor value near the data, recomputed from the
    window every ``n`` rows: no catastrophic cancellation on flat or high-priced series,
    and O(1) work per row on average. The loop keeps its state in locals.
    """
    total, anchor, first, second = float(s[o]), float(s[o + 1]), float(s[o + 2]), float(s[o + 3])
    steps, count, pos = float(s[o + 4]), float(s[o + 5]), int(s[o + 6])
    buf = s[o + 7 : o + 7 + n]
    for i in range(x.shape[0]):
        value = x[i]
        full = count >= n
        leaving = buf[pos] if full else 0.0
        buf[pos] = value
        pos += 1
        if pos == n:
            pos = 0
        count += 1.0
        if count == 1.0:
            anchor = value
        if full:
            total -= leaving
            first -= leaving - anchor
            second -= (leaving - anchor) * (leaving - anchor)
        total += value
        first += value - anchor
        second += (value - anchor) * (value - anchor)
        steps += 1.0
        if count >= n and steps >= n:
            anchor, first, second, steps = value, 0.0, 0.0, 0.0
            for j in range(n):
                first += buf[j] - anchor
                second += (buf[j] - anchor) * (buf[j] - anchor)
        if count < n:
            variance[i] = NAN
            mean[i] = NAN
        else:
            average = first / n
            spread = second / n - average * average
            variance[i] = spread if spread > 0.0 else 0.0
            mean[i] = total / n
    s[o], s[o + 1], s[o + 2], s[o + 3] = total, anchor, first, second
    s[o + 4], s[o + 5], s[o + 6] = steps, count, pos


@njit
def variance_step(s: np.ndarray, o: int, n: int, x: float) -> float:
    """``variance_block`` for one value (convenient where speed matters less)."""
    variance, mean = np.empty(1), np.empty(1)
    variance_block(np.array([x]), n, s, o, variance, mean)
    return float(variance[0])
