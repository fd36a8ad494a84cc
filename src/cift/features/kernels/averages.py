"""Kernels of moving averages and price statistics (TA-Lib conventions)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import (
    NAN,
    ema_next,
    ema_size,
    ema_step,
    sma_next,
    sma_size,
    sma_step,
    variance_block,
    variance_size,
    window_push,
    window_size,
)


@njit
def sma_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Running total as TA-Lib keeps it. Once a call has pushed ``n`` values, the value
    leaving the window is ``x[i - n]`` itself, so the ring buffer is refilled only once,
    at the end: the same arithmetic in the same order as one value at a time."""
    n = int(params[0])
    x = inputs[0]
    m = x.shape[0]
    buf = s[3 : 3 + n]
    total, count, pos = float(s[0]), float(s[1]), int(s[2])
    head = min(n, m)
    for i in range(head):
        total, count, pos, out[0, i] = sma_next(buf, n, total, count, pos, x[i])
    for i in range(head, m):
        leaving = x[i - n]
        if not math.isnan(leaving):
            total -= leaving
        total += x[i]
        out[0, i] = total / n
    if m > head:
        pos = (pos + (m - head)) % n
        for k in range(n):
            buf[(pos + k) % n] = x[m - n + k]
        count += m - head
    s[0], s[1], s[2] = total, count, pos


def sma_state(params: np.ndarray) -> int:
    return int(sma_size(int(params[0])))


@njit
def ema_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    n = int(params[0])
    k = 2.0 / (n + 1)
    x = inputs[0]
    count, seed, value = float(s[0]), float(s[1]), float(s[2])
    for i in range(x.shape[0]):
        count, seed, value, out[0, i] = ema_next(n, k, count, seed, value, x[i])
    s[0], s[1], s[2] = count, seed, value


def ema_state(params: np.ndarray) -> int:
    return int(ema_size())


@njit
def dema_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """2·EMA - EMA(EMA)."""
    n = int(params[0])
    k = 2.0 / (n + 1)
    x = inputs[0]
    for i in range(x.shape[0]):
        first = ema_step(s, 0, n, k, x[i])
        out[0, i] = NAN
        if not math.isnan(first):
            second = ema_step(s, 3, n, k, first)
            if not math.isnan(second):
                out[0, i] = 2.0 * first - second


@njit
def tema_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """3·EMA - 3·EMA(EMA) + EMA(EMA(EMA))."""
    n = int(params[0])
    k = 2.0 / (n + 1)
    x = inputs[0]
    for i in range(x.shape[0]):
        out[0, i] = NAN
        first = ema_step(s, 0, n, k, x[i])
        if math.isnan(first):
            continue
        second = ema_step(s, 3, n, k, first)
        if math.isnan(second):
            continue
        third = ema_step(s, 6, n, k, second)
        if not math.isnan(third):
            out[0, i] = 3.0 * first - 3.0 * second + third


def chained_ema_state(links: int) -> Callable[[np.ndarray], int]:
    """The state size of ``links`` EMAs of EMAs."""

    def size(params: np.ndarray) -> int:
        return links * int(ema_size())

    return size


@njit
def wma_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Weights 1..n, the newest heaviest; running weighted and plain sums."""
    n = int(params[0])
    divider = n * (n + 1) / 2.0
    x = inputs[0]
    for i in range(x.shape[0]):
        value = x[i]
        count = s[0]
        if count < n:
            s[1] += (count + 1) * value
            s[2] += value
        else:
            s[1] = s[1] - s[2] + n * value
        leaving = window_push(s, 3, n, value)
        if count >= n:
            s[2] = s[2] - leaving + value
        s[0] = count + 1
        out[0, i] = s[1] / divider if count + 1 >= n else NAN


def wma_state(params: np.ndarray) -> int:
    return 3 + int(window_size(int(params[0])))


@njit
def trima_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Triangular average: an SMA of an SMA (TA-Lib's split of the period)."""
    n = int(params[0])
    first = (n + 1) // 2 if n % 2 else n // 2
    second = (n + 1) // 2 if n % 2 else n // 2 + 1
    offset = sma_size(first)
    x = inputs[0]
    for i in range(x.shape[0]):
        inner = sma_step(s, 0, first, x[i])
        out[0, i] = sma_step(s, offset, second, inner) if not math.isnan(inner) else NAN


def trima_state(params: np.ndarray) -> int:
    n = int(params[0])
    first = (n + 1) // 2 if n % 2 else n // 2
    second = (n + 1) // 2 if n % 2 else n // 2 + 1
    return int(sma_size(first) + sma_size(second))


@njit
def variance_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Population variance (TA-Lib VAR); ``params[1]`` (nbdev) is ignored, as in TA-Lib."""
    x = inputs[0]
    variance_block(x, int(params[0]), s, 0, out[0], np.empty(x.shape[0]))


def variance_state(params: np.ndarray) -> int:
    return int(variance_size(int(params[0])))


@njit(inline="always")
def deviation(variance: float) -> float:
    if math.isnan(variance):
        return NAN
    return math.sqrt(variance) if variance > 0.0 else 0.0  # rounding can make it negative


@njit
def stddev_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Population standard deviation times ``nbdev`` (TA-Lib STDDEV)."""
    x = inputs[0]
    variance_block(x, int(params[0]), s, 0, out[0], np.empty(x.shape[0]))
    for i in range(x.shape[0]):
        out[0, i] = deviation(out[0, i]) * params[1]


@njit
def bbands_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Bollinger bands over an SMA with population deviation: upper, middle, lower."""
    x = inputs[0]
    variance = np.empty(x.shape[0])
    variance_block(x, int(params[0]), s, 0, variance, out[1])
    up, down = params[1], params[2]
    for i in range(x.shape[0]):
        spread = deviation(variance[i])
        out[0, i] = out[1, i] + up * spread
        out[2, i] = out[1, i] - down * spread


@njit
def zscore_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """(x - SMA) / population deviation over the window; null when the deviation is 0."""
    x = inputs[0]
    mean = np.empty(x.shape[0])
    variance_block(x, int(params[0]), s, 0, out[0], mean)
    for i in range(x.shape[0]):
        spread = deviation(out[0, i])
        out[0, i] = (x[i] - mean[i]) / spread if spread > 0 else NAN
