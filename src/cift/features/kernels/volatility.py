"""Kernels of volatility estimators: realized variance, bipower variation and the
range-based estimators of Parkinson, Garman-Klass, Rogers-Satchell and Yang-Zhang.

Every estimator outputs a variance per bar in squared log-return units (multiply by the
bars in a year and take the square root for an annualised volatility). A window holding
a bar with a missing or non-positive price is null.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ring_push

LN2 = math.log(2.0)
SEEN, PREV = 0, 1


@njit(inline="always")
def log_ratio(a: float, b: float) -> float:
    """ln(a/b); NaN unless both prices are positive."""
    if a > 0.0 and b > 0.0:
        return math.log(a / b)
    return NAN


@njit(inline="always")
def rolling_size(n: int) -> int:
    """[count, position, total, present, steps, values...]."""
    return 5 + n


@njit(inline="always")
def rolling_next(
    buf: np.ndarray,
    n: int,
    count: float,
    pos: int,
    total: float,
    present: float,
    steps: float,
    x: float,
) -> tuple[float, int, float, float, float]:
    """Sum of the last ``n`` values with NaN counted as absent: (count, position, total,
    values present, steps). The total is re-added from the window every ``n`` rows, so
    rounding from adding and removing values never accumulates."""
    if not math.isfinite(x):
        x = NAN
    count, pos, leaving = ring_push(buf, n, count, pos, x)
    if not math.isnan(leaving):
        total -= leaving
        present -= 1.0
    if not math.isnan(x):
        total += x
        present += 1.0
    steps += 1.0
    if steps >= n:
        total = 0.0
        for j in range(n):
            if not math.isnan(buf[j]):
                total += buf[j]
        steps = 0.0
    return count, pos, total, present, steps


@njit(inline="always")
def rolling_mean_of_terms(
    terms: np.ndarray, n: int, scale: float, s: np.ndarray, out: np.ndarray
) -> None:
    """``scale`` times the mean of the last ``n`` terms, null unless all ``n`` are known."""
    buf = s[5 : 5 + n]
    count, pos, total, present, steps = (
        float(s[0]),
        int(s[1]),
        float(s[2]),
        float(s[3]),
        float(s[4]),
    )
    for i in range(terms.shape[0]):
        count, pos, total, present, steps = rolling_next(
            buf, n, count, pos, total, present, steps, terms[i]
        )
        out[0, i] = total / n * scale if present >= n else NAN
    s[0], s[1], s[2], s[3], s[4] = count, pos, total, present, steps


def window_state(params: np.ndarray) -> int:
    return int(rolling_size(int(params[0])))


@njit
def parkinson_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Parkinson: mean(ln(H/L)²) / (4 ln 2)."""
    high, low = inputs[0], inputs[1]
    terms = np.empty(high.shape[0])
    for i in range(high.shape[0]):
        hl = log_ratio(high[i], low[i])
        terms[i] = hl * hl
    rolling_mean_of_terms(terms, int(params[0]), 1.0 / (4.0 * LN2), s, out)


@njit
def garman_klass_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Garman-Klass: mean(½ ln(H/L)² - (2 ln 2 - 1) ln(C/O)²)."""
    open_, high, low, close = inputs[0], inputs[1], inputs[2], inputs[3]
    terms = np.empty(high.shape[0])
    for i in range(high.shape[0]):
        hl = log_ratio(high[i], low[i])
        co = log_ratio(close[i], open_[i])
        terms[i] = 0.5 * hl * hl - (2.0 * LN2 - 1.0) * co * co
    rolling_mean_of_terms(terms, int(params[0]), 1.0, s, out)


@njit(inline="always")
def rogers_satchell_term(open_: float, high: float, low: float, close: float) -> float:
    """ln(H/C)·ln(H/O) + ln(L/C)·ln(L/O)."""
    return log_ratio(high, close) * log_ratio(high, open_) + log_ratio(low, close) * log_ratio(
        low, open_
    )


@njit
def rogers_satchell_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Rogers-Satchell: mean(ln(H/C)ln(H/O) + ln(L/C)ln(L/O)), drift-independent."""
    open_, high, low, close = inputs[0], inputs[1], inputs[2], inputs[3]
    terms = np.empty(high.shape[0])
    for i in range(high.shape[0]):
        terms[i] = rogers_satchell_term(open_[i], high[i], low[i], close[i])
    rolling_mean_of_terms(terms, int(params[0]), 1.0, s, out)


@njit(inline="always")
def sample_variance(buf: np.ndarray, n: int) -> float:
    """Variance with ddof 1, two passes (NaN if any value is)."""
    mean = 0.0
    for j in range(n):
        mean += buf[j]
    mean /= n
    squares = 0.0
    for j in range(n):
        squares += (buf[j] - mean) * (buf[j] - mean)
    return squares / (n - 1)


@njit
def yang_zhang_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Yang-Zhang: var(ln O/C₋₁) + k·var(ln C/O) + (1-k)·mean(RS) over the last ``n`` bars
    that have a previous close, with k = 0.34 / (1.34 + (n+1)/(n-1)) and ddof 1."""
    n = int(params[0])
    k = 0.34 / (1.34 + (n + 1.0) / (n - 1.0))
    open_, high, low, close = inputs[0], inputs[1], inputs[2], inputs[3]
    seen, previous, count, pos = s[SEEN], float(s[PREV]), float(s[2]), int(s[3])
    overnight, intraday, rs = s[4 : 4 + n], s[4 + n : 4 + 2 * n], s[4 + 2 * n : 4 + 3 * n]
    for i in range(high.shape[0]):
        out[0, i] = NAN
        if seen == 0:
            seen = 1
            previous = close[i]
            continue
        rs[pos] = rogers_satchell_term(open_[i], high[i], low[i], close[i])
        intraday[pos] = log_ratio(close[i], open_[i])
        count, pos, _ = ring_push(overnight, n, count, pos, log_ratio(open_[i], previous))
        previous = close[i]
        if count < n:
            continue
        mean_rs = 0.0
        for j in range(n):
            mean_rs += rs[j]
        value = sample_variance(overnight, n) + k * sample_variance(intraday, n)
        out[0, i] = value + (1.0 - k) * (mean_rs / n)
    s[SEEN], s[PREV], s[2], s[3] = seen, previous, count, pos


def yang_zhang_state(params: np.ndarray) -> int:
    return 4 + 3 * int(params[0])


@njit
def realized_variance_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Sum of the last ``n`` squared log returns."""
    n = int(params[0])
    close = inputs[0]
    seen, previous = s[SEEN], float(s[PREV])
    buf = s[7 : 7 + n]
    count, pos, total, present, steps = (
        float(s[2]),
        int(s[3]),
        float(s[4]),
        float(s[5]),
        float(s[6]),
    )
    for i in range(close.shape[0]):
        out[0, i] = NAN
        if seen == 0:
            seen = 1
            previous = close[i]
            continue
        r = log_ratio(close[i], previous)
        previous = close[i]
        count, pos, total, present, steps = rolling_next(
            buf, n, count, pos, total, present, steps, r * r
        )
        if present >= n:
            out[0, i] = total
    s[SEEN], s[PREV] = seen, previous
    s[2], s[3], s[4], s[5], s[6] = count, pos, total, present, steps


def realized_variance_state(params: np.ndarray) -> int:
    return 2 + int(rolling_size(int(params[0])))


@njit
def bipower_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Bipower variation (π/2)·Σ|rᵢ||rᵢ₋₁| over the last ``n`` log returns (times
    n/(n-1) when ``params[1]`` is 1) and the jump share max(RV - BV, 0) / RV."""
    n = int(params[0])
    factor = math.pi / 2.0 * (n / (n - 1.0) if params[1] != 0 else 1.0)
    close = inputs[0]
    seen, previous, last = s[0], float(s[1]), float(s[2])
    rv_at, bv_at = 3, 3 + rolling_size(n)
    squares, products = s[rv_at + 5 : rv_at + 5 + n], s[bv_at + 5 : bv_at + 4 + n]
    rc, rp, rt, rn, rs = (
        float(s[rv_at]),
        int(s[rv_at + 1]),
        float(s[rv_at + 2]),
        float(s[rv_at + 3]),
        float(s[rv_at + 4]),
    )
    bc, bp, bt, bn, bs = (
        float(s[bv_at]),
        int(s[bv_at + 1]),
        float(s[bv_at + 2]),
        float(s[bv_at + 3]),
        float(s[bv_at + 4]),
    )
    for i in range(close.shape[0]):
        out[0, i] = NAN
        out[1, i] = NAN
        if seen == 0:
            seen = 1
            previous = close[i]
            continue
        r = abs(log_ratio(close[i], previous))
        previous = close[i]
        rc, rp, rt, rn, rs = rolling_next(squares, n, rc, rp, rt, rn, rs, r * r)
        if seen == 1:
            seen = 2
        else:
            bc, bp, bt, bn, bs = rolling_next(products, n - 1, bc, bp, bt, bn, bs, r * last)
        last = r
        if rn >= n and bn >= n - 1:
            bv = bt * factor
            out[0, i] = bv
            out[1, i] = max(rt - bv, 0.0) / rt if rt > 0 else NAN
    s[0], s[1], s[2] = seen, previous, last
    s[rv_at], s[rv_at + 1], s[rv_at + 2], s[rv_at + 3], s[rv_at + 4] = rc, rp, rt, rn, rs
    s[bv_at], s[bv_at + 1], s[bv_at + 2], s[bv_at + 3], s[bv_at + 4] = bc, bp, bt, bn, bs


def bipower_state(params: np.ndarray) -> int:
    n = int(params[0])
    return 3 + int(rolling_size(n)) + int(rolling_size(n - 1))
