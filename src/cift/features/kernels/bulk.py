"""Bulk volume classification: the buy share of each bar's volume from its standardised
price change (Easley, López de Prado and O'Hara), and VPIN over BVC-classified bars as
in their paper.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.distributions import normal_cdf, student_t_cdf
from cift.features.kernels.ops import NAN, variance_block, variance_size
from cift.features.kernels.order_flow import BUCKETS, bucket_fill


@njit(inline="always")
def buy_share(change: float, sigma: float, df: float) -> float:
    """Z(dP/sd): the normal CDF, or Student's t with ``df`` > 0; 1/2 when sd is 0."""
    if sigma <= 0.0:
        return 0.5
    z = change / sigma
    return normal_cdf(z) if df == 0.0 else student_t_cdf(z, df)


@njit
def bvc_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Bulk volume classification of bars: V_buy = V·Z(dP/sd), V_sell = V - V_buy, sd the
    sample deviation (ddof 1) of the last n price changes, this bar's included."""
    close, volume = inputs[0], inputs[1]
    n, df = int(params[0]), params[1]
    rows = close.shape[0]
    change, at = np.empty(rows), np.empty(rows, dtype=np.int64)
    seen, previous, k = s[0], float(s[1]), 0
    for i in range(rows):
        out[0, i] = NAN
        out[1, i] = NAN
        if math.isnan(close[i]):
            continue
        if seen != 0.0:
            change[k] = close[i] - previous
            at[k] = i
            k += 1
        seen, previous = 1.0, close[i]
    s[0], s[1] = seen, previous
    variance, mean = np.empty(k), np.empty(k)
    variance_block(change[:k], n, s, 2, variance, mean)
    sample = n / (n - 1.0)
    for j in range(k):
        i, v = at[j], volume[at[j]]
        if math.isnan(variance[j]) or math.isnan(v):
            continue
        bought = v * buy_share(change[j], math.sqrt(variance[j] * sample), df) if v > 0 else 0.0
        out[0, i] = bought
        out[1, i] = v - bought if v > 0 else 0.0


def bvc_state(params: np.ndarray) -> int:
    return 2 + int(variance_size(int(params[0])))


@njit
def bvc_vpin_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """VPIN over buckets of BVC-classified bars: each bar's volume goes into the buckets
    with its BVC buy share (split across bucket ends); bars before the deviation window
    is full are not classified and fill nothing."""
    close, volume = inputs[0], inputs[1]
    bucket, n = params[0], int(params[1])
    rows = close.shape[0]
    shares = np.empty((2, rows))
    bvc_kernel(inputs, params[2:4], s[BUCKETS + n :], shares)
    state = (float(s[0]), float(s[1]), float(s[2]), int(s[3]), s[4] if s[2] >= n else NAN)
    ring = s[BUCKETS : BUCKETS + n]
    for i in range(rows):
        v = volume[i]
        if not math.isnan(shares[0, i]) and v > 0.0:
            state = bucket_fill(ring, n, bucket, v, shares[0, i] / v, state)
        out[0, i] = state[4]
    s[0], s[1], s[2], s[3], s[4] = state


def bvc_vpin_state(params: np.ndarray) -> int:
    return BUCKETS + int(params[1]) + bvc_state(params[2:4])
