"""Kernels of market microstructure: spreads and prices from the quote, trading costs,
and liquidity measures (Kyle's lambda, Amihud, Roll, Corwin-Schultz).

A quote is a market only when 0 < bid < ask: on a crossed, locked, one-sided or missing
quote every quote-based output is null. ``side`` is +1 for a buyer-initiated trade and
-1 for a seller-initiated one; an unknown side (0) makes trade-cost outputs null.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ring_push
from cift.features.kernels.volatility import log_ratio, rolling_next, rolling_size

BPS = 1e4
SQRT2 = math.sqrt(2.0)
CS_DENOMINATOR = 3.0 - 2.0 * SQRT2


@njit(inline="always")
def quote_mid(bid: float, ask: float) -> float:
    """(bid + ask) / 2, NaN unless 0 < bid < ask."""
    if bid > 0.0 and ask > bid:
        return (bid + ask) / 2.0
    return NAN


@njit
def mid_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    bid, ask = inputs[0], inputs[1]
    for i in range(bid.shape[0]):
        out[0, i] = quote_mid(bid[i], ask[i])


@njit
def quoted_spread_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """ask - bid, and the same in basis points of the mid."""
    bid, ask = inputs[0], inputs[1]
    for i in range(bid.shape[0]):
        mid = quote_mid(bid[i], ask[i])
        spread = ask[i] - bid[i] if not math.isnan(mid) else NAN
        out[0, i] = spread
        out[1, i] = spread / mid * BPS


@njit
def weighted_mid_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """I·ask + (1 - I)·bid with I = bid_size / (bid_size + ask_size): leans to the side
    with the smaller queue."""
    bid, ask, bid_size, ask_size = inputs[0], inputs[1], inputs[2], inputs[3]
    for i in range(bid.shape[0]):
        out[0, i] = NAN
        depth = bid_size[i] + ask_size[i]
        if math.isnan(quote_mid(bid[i], ask[i])) or not (
            bid_size[i] >= 0.0 and ask_size[i] >= 0.0 and depth > 0.0
        ):
            continue
        imbalance = bid_size[i] / depth
        out[0, i] = imbalance * ask[i] + (1.0 - imbalance) * bid[i]


@njit(inline="always")
def trade_sign(side: float) -> float:
    """+1 or -1, NaN for an unknown side."""
    if side > 0.0:
        return 1.0
    if side < 0.0:
        return -1.0
    return NAN


@njit
def effective_spread_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """2·b·(price - mid) at the prevailing quote, and in basis points of the mid."""
    price, side, bid, ask = inputs[0], inputs[1], inputs[2], inputs[3]
    for i in range(price.shape[0]):
        mid = quote_mid(bid[i], ask[i])
        spread = 2.0 * trade_sign(side[i]) * (price[i] - mid)
        out[0, i] = spread
        out[1, i] = spread / mid * BPS


@njit
def realized_spread_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """2·b·(price - mid at t+Δ) and the price impact 2·b·(mid at t+Δ - mid at t).

    The mid at t+Δ is the one of the last row stamped at or before t+Δ (``ts`` in
    nanoseconds, Δ = ``params[0]`` seconds); null when the data ends before t+Δ. This
    looks ahead by construction: it measures what a trade earned, not a signal.
    """
    ts, price, side, bid, ask = inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]
    horizon = params[0] * 1e9
    rows = ts.shape[0]
    later = 0
    for i in range(rows):
        out[0, i] = NAN
        out[1, i] = NAN
        target = ts[i] + horizon
        later = max(later, i)
        while later + 1 < rows and ts[later + 1] <= target:
            later += 1
        if ts[later] < target and later + 1 >= rows:
            continue  # the data ends before t+Δ: the mid there is unknown
        sign = trade_sign(side[i])
        future = quote_mid(bid[later], ask[later])
        out[0, i] = 2.0 * sign * (price[i] - future)
        out[1, i] = 2.0 * sign * (future - quote_mid(bid[i], ask[i]))


@njit
def kyle_lambda_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """OLS slope of the price change on the signed size b·v over the last ``n`` trades,
    with an intercept when ``params[1]`` is 1, through the origin when it is 0."""
    n = int(params[0])
    intercept = params[1] != 0
    price, size, side = inputs[0], inputs[1], inputs[2]
    seen, previous, count, pos = s[0], float(s[1]), float(s[2]), int(s[3])
    moves, flows = s[4 : 4 + n], s[4 + n : 4 + 2 * n]
    for i in range(price.shape[0]):
        out[0, i] = NAN
        if seen == 0:
            seen = 1
            previous = price[i]
            continue
        flows[pos] = side[i] * size[i]
        count, pos, _ = ring_push(moves, n, count, pos, price[i] - previous)
        previous = price[i]
        if count >= n:
            out[0, i] = slope(flows, moves, n, intercept)
    s[0], s[1], s[2], s[3] = seen, previous, count, pos


@njit(inline="always")
def slope(x: np.ndarray, y: np.ndarray, n: int, intercept: bool) -> float:
    """OLS slope of y on x (NaN when x does not vary, or any value is NaN)."""
    mean_x, mean_y = 0.0, 0.0
    if intercept:
        for j in range(n):
            mean_x += x[j]
            mean_y += y[j]
        mean_x /= n
        mean_y /= n
    sxy, sxx = 0.0, 0.0
    for j in range(n):
        sxy += (x[j] - mean_x) * (y[j] - mean_y)
        sxx += (x[j] - mean_x) * (x[j] - mean_x)
    return sxy / sxx if sxx > 0.0 else NAN


def kyle_lambda_state(params: np.ndarray) -> int:
    return 4 + 2 * int(params[0])


@njit
def amihud_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Mean of |return| / (close·volume) over the bars with volume among the last ``n``
    returns, times 1e6 (return per million traded). ``params[1]``: 0 simple returns,
    1 log returns."""
    n = int(params[0])
    use_log = params[1] != 0
    close, volume = inputs[0], inputs[1]
    seen, previous = s[0], float(s[1])
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
        move = log_ratio(close[i], previous) if use_log else close[i] / previous - 1.0
        previous = close[i]
        dollars = close[i] * volume[i]
        ratio = abs(move) / dollars if volume[i] > 0.0 and dollars > 0.0 else NAN
        count, pos, total, present, steps = rolling_next(
            buf, n, count, pos, total, present, steps, ratio
        )
        if count >= n and present > 0:
            out[0, i] = total / present * 1e6
    s[0], s[1] = seen, previous
    s[2], s[3], s[4], s[5], s[6] = count, pos, total, present, steps


def rolling_state(params: np.ndarray) -> int:
    """A previous value plus a rolling sum over ``params[0]`` rows."""
    return 2 + int(rolling_size(int(params[0])))


@njit(inline="always")
def autocovariance_sum(chain: np.ndarray, n: int) -> float:
    """Σ (xₜ - x̄)(xₜ₋₁ - x̄₋₁) over the n pairs of consecutive values of ``chain``."""
    mean_now, mean_before = 0.0, 0.0
    for j in range(n):
        mean_now += chain[j + 1]
        mean_before += chain[j]
    mean_now /= n
    mean_before /= n
    products = 0.0
    for j in range(n):
        products += (chain[j + 1] - mean_now) * (chain[j] - mean_before)
    return products


@njit
def roll_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Roll's spread 2·√(-cov(Δpₜ, Δpₜ₋₁)) over the last ``n`` pairs of price changes
    (``params[1]`` is the ddof); null when the autocovariance is positive."""
    n = int(params[0])
    ddof = params[1]
    close = inputs[0]
    seen, previous, count, pos = s[0], float(s[1]), float(s[2]), int(s[3])
    buf = s[4 : 5 + n]  # the last n+1 changes, oldest at ``pos``
    chain = np.empty(n + 1)
    for i in range(close.shape[0]):
        out[0, i] = NAN
        if seen == 0:
            seen = 1
            previous = close[i]
            continue
        count, pos, _ = ring_push(buf, n + 1, count, pos, close[i] - previous)
        previous = close[i]
        if count < n + 1:
            continue
        chain[: n + 1 - pos] = buf[pos:]  # the changes in time order
        chain[n + 1 - pos :] = buf[:pos]
        products = autocovariance_sum(chain, n)
        cov = products / (n - ddof)
        out[0, i] = 2.0 * math.sqrt(-cov) if cov <= 0.0 else NAN
    s[0], s[1], s[2], s[3] = seen, previous, count, pos


def roll_state(params: np.ndarray) -> int:
    return 5 + int(params[0])


@njit(inline="always")
def corwin_schultz_pair(
    high0: float, low0: float, close0: float, high1: float, low1: float
) -> float:
    """The two-day spread estimate, with day 1 shifted onto day 0's close when it gaps,
    floored at 0."""
    if low1 > close0:
        shift = low1 - close0
        high1, low1 = high1 - shift, low1 - shift
    elif high1 < close0:
        shift = close0 - high1
        high1, low1 = high1 + shift, low1 + shift
    range0, range1 = log_ratio(high0, low0), log_ratio(high1, low1)
    beta = range0 * range0 + range1 * range1
    both = log_ratio(max(high0, high1), min(low0, low1))
    gamma = both * both
    alpha = (math.sqrt(2.0 * beta) - math.sqrt(beta)) / CS_DENOMINATOR - math.sqrt(
        gamma / CS_DENOMINATOR
    )
    spread = 2.0 * (math.exp(alpha) - 1.0) / (1.0 + math.exp(alpha))
    return max(spread, 0.0) if not math.isnan(spread) else NAN


@njit
def corwin_schultz_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Mean of the floored two-bar estimates over the last ``n`` pairs; a pair touching a
    bar with zero volume is left out."""
    n = int(params[0])
    high, low, close, volume = inputs[0], inputs[1], inputs[2], inputs[3]
    seen, h0, l0, c0, v0 = s[0], float(s[1]), float(s[2]), float(s[3]), float(s[4])
    buf = s[10 : 10 + n]
    count, pos, total, present, steps = (
        float(s[5]),
        int(s[6]),
        float(s[7]),
        float(s[8]),
        float(s[9]),
    )
    for i in range(high.shape[0]):
        out[0, i] = NAN
        if seen != 0:
            pair = corwin_schultz_pair(h0, l0, c0, high[i], low[i])
            if v0 == 0.0 or volume[i] == 0.0:
                pair = NAN
            count, pos, total, present, steps = rolling_next(
                buf, n, count, pos, total, present, steps, pair
            )
            if count >= n and present > 0:
                out[0, i] = total / present
        seen, h0, l0, c0, v0 = 1, high[i], low[i], close[i], volume[i]
    s[0], s[1], s[2], s[3], s[4] = seen, h0, l0, c0, v0
    s[5], s[6], s[7], s[8], s[9] = count, pos, total, present, steps


def corwin_schultz_state(params: np.ndarray) -> int:
    return 5 + int(rolling_size(int(params[0])))
