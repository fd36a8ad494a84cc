"""Kernels of adaptive and multi-stage trend averages: KAMA, T3, TRIX (TA-Lib conventions)."""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ema_next, ema_size, ring_push, window_size

# TA-Lib's zero band for KAMA's sum of absolute changes.
EPSILON = 1e-14


@njit
def kama_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Kaufman's adaptive moving average: an EMA whose factor is
    (ER · (2/3 - 2/31) + 2/31)², ER = |x - xₙ| / Σ|Δx| over n bars. TA-Lib's running sum of
    |Δx| and its seed (the previous close) at bar n."""
    n = int(params[0])
    fastest, slowest = 2.0 / (2.0 + 1.0), 2.0 / (30.0 + 1.0)
    spread = fastest - slowest
    x = inputs[0]
    size = n + 1
    buf = s[6 : 6 + size]
    row, total, kama, yesterday = s[0], float(s[1]), float(s[2]), float(s[3])
    count, pos = float(s[4]), int(s[5])
    for i in range(x.shape[0]):
        value = x[i]
        count, pos, leaving = ring_push(buf, size, count, pos, value)
        out[0, i] = NAN
        if row == 0:
            row += 1
            yesterday = value
            continue
        start = buf[pos]  # the value n bars ago, once there are n+1
        if row <= n:
            total += abs(yesterday - value)
            if row < n:
                row += 1
                yesterday = value
                continue
            kama = yesterday
        else:
            total -= abs(leaving - start)
            total += abs(value - yesterday)
        change = value - start
        flat = total <= change or -EPSILON < total < EPSILON
        ratio = 1.0 if flat else abs(change / total)
        factor = ratio * spread + slowest
        factor *= factor
        kama = (value - kama) * factor + kama
        out[0, i] = kama
        row += 1
        yesterday = value
    s[0], s[1], s[2], s[3], s[4], s[5] = row, total, kama, yesterday, count, pos


def kama_state(params: np.ndarray) -> int:
    return 4 + int(window_size(int(params[0]) + 1))


@njit
def t3_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Tillson's T3: six chained EMAs (k·x + (1-k)·e), each seeded with the mean of its
    first n inputs, combined with the volume factor's weights; first value at 6(n-1)."""
    n = int(params[0])
    v = params[1]
    k = 2.0 / (n + 1.0)
    keep = 1.0 - k
    square = v * v
    c1 = -(square * v)
    c2 = 3.0 * (square - c1)
    c3 = -6.0 * square - 3.0 * (v - c1)
    c4 = 1.0 + 3.0 * v - c1 + 3.0 * square
    x = inputs[0]
    e = s[3:9]
    level, steps, seed = int(s[0]), s[1], float(s[2])
    for i in range(x.shape[0]):
        out[0, i] = NAN
        if level == 0:
            seed += x[i]
            steps += 1
            if steps < n:
                continue
            e[0] = seed / n
            seed, level, steps = e[0], 1, 0.0
        else:
            e[0] = k * x[i] + keep * e[0]
            for j in range(1, level):
                e[j] = k * e[j - 1] + keep * e[j]
            if level < 6:
                seed += e[level - 1]
                steps += 1
        while level < 6 and steps == n - 1:  # this stage has its n values
            e[level] = seed / n
            seed, level, steps = e[level], level + 1, 0.0
        if level == 6:
            out[0, i] = c1 * e[5] + c2 * e[4] + c3 * e[3] + c4 * e[2]
    s[0], s[1], s[2] = level, steps, seed


def t3_state(params: np.ndarray) -> int:
    return 9


@njit
def trix_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """TRIX: 1-bar rate of change (percent) of a triple EMA; 0 when the previous value is 0."""
    n = int(params[0])
    k = 2.0 / (n + 1)
    x = inputs[0]
    c1, t1, v1 = float(s[0]), float(s[1]), float(s[2])
    c2, t2, v2 = float(s[3]), float(s[4]), float(s[5])
    c3, t3, v3 = float(s[6]), float(s[7]), float(s[8])
    previous = float(s[9])
    for i in range(x.shape[0]):
        out[0, i] = NAN
        c1, t1, v1, first = ema_next(n, k, c1, t1, v1, x[i])
        if math.isnan(first):
            continue
        c2, t2, v2, second = ema_next(n, k, c2, t2, v2, first)
        if math.isnan(second):
            continue
        c3, t3, v3, third = ema_next(n, k, c3, t3, v3, second)
        if math.isnan(third):
            continue
        if c3 > n:
            out[0, i] = ((third / previous) - 1.0) * 100.0 if previous != 0 else 0.0
        previous = third
    s[0], s[1], s[2], s[3], s[4], s[5] = c1, t1, v1, c2, t2, v2
    s[6], s[7], s[8], s[9] = c3, t3, v3, previous


def trix_state(params: np.ndarray) -> int:
    return 3 * int(ema_size()) + 1
