"""Path-dependent sampling loops: bar assignment, imbalance bars, CUSUM events, barriers.

Each loop keeps its memory in a float64 state vector that it updates in place, so a
stream processed in chunks (carrying the state) gives the same result as one pass.
Bar loops write, per trade, the number of the bar the trade belongs to.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit

NAN = np.nan

# Standard bars: [metric accumulated in the open bar, bars closed so far].
STANDARD_STATE = 2

# Imbalance bars: slots of the state vector.
SEEN, PREV_PRICE, PREV_SIGN, BAR, TICKS, THETA = 0, 1, 2, 3, 4, 5
IMB_NUM, IMB_DEN, LEN_NUM, LEN_DEN, EXP_TICKS, EXP_IMB = 6, 7, 8, 9, 10, 11
IMBALANCE_STATE = 12

# Imbalance-bar parameters: positions in the params vector.
P_TICKS, P_BAR_ALPHA, P_IMB_ALPHA, P_LOW, P_HIGH, P_USE_SIDE = 0, 1, 2, 3, 4, 5

# CUSUM filter: [values seen, previous value, S+, S-].
CUSUM_STATE = 4


@njit(inline="always")
def tick_sign(price: float, previous: float, sign: float) -> float:
    """Tick rule: the sign of the price change; an unchanged price keeps the last sign."""
    if price > previous:
        return 1.0
    if price < previous:
        return -1.0
    return sign


@njit(inline="always")
def trade_sign(
    price: float, previous: float, sign: float, seen: float, side: float, use_side: bool
) -> float:
    """The aggressor side where known and wanted, else the tick rule; the first trade of a
    series keeps the seed ``sign``."""
    if use_side and side != 0:
        return 1.0 if side > 0 else -1.0
    if seen > 0:
        return tick_sign(price, previous, sign)
    return sign


@njit
def trade_signs(
    price: np.ndarray, side: np.ndarray, use_side: bool, s: np.ndarray, out: np.ndarray
) -> None:
    """Each trade's sign (state: [trades seen, previous price, previous sign])."""
    seen, previous, sign = s[0], s[1], s[2]
    for i in range(price.shape[0]):
        sign = trade_sign(price[i], previous, sign, seen, side[i], use_side)
        previous = price[i]
        seen += 1.0
        out[i] = sign
    s[0], s[1], s[2] = seen, previous, sign


@njit
def standard_bar_ids(metric: np.ndarray, threshold: float, s: np.ndarray, out: np.ndarray) -> None:
    """Close a bar at the first trade where the accumulated metric reaches ``threshold``.

    The closing trade belongs to the bar it closes (it is not split), and the next bar
    starts from zero: an overshoot is not carried over.
    """
    total, bar = float(s[0]), float(s[1])
    for i in range(metric.shape[0]):
        total += metric[i]
        out[i] = int(bar)
        if total >= threshold:
            bar += 1.0
            total = 0.0
    s[0], s[1] = total, bar


@njit
def imbalance_bar_ids(
    price: np.ndarray,
    metric: np.ndarray,
    side: np.ndarray,
    params: np.ndarray,
    s: np.ndarray,
    out: np.ndarray,
) -> None:
    """Imbalance bars (AFML 2.3.2): close at the first trade where
    ``|theta| >= E0[T] * |E0[b m]|``, theta being the signed metric summed over the bar.

    ``E0[b m]`` is an exponentially weighted mean of ``b·m`` over past trades (adjusted
    weights, span given by ``params[P_IMB_ALPHA]``), frozen at each bar's start; ``E0[T]``
    is the same kind of average of past bar lengths, clamped to ``[low, high]``. An alpha
    of 0 keeps that expectation at its initial value. Until the expected imbalance is
    known (the first ``ceil(E0[T])`` trades when no initial value is given) no bar closes.
    """
    warm_up = math.ceil(params[P_TICKS])
    bar_alpha, imb_alpha = params[P_BAR_ALPHA], params[P_IMB_ALPHA]
    low, high, use_side = params[P_LOW], params[P_HIGH], params[P_USE_SIDE] > 0
    seen, previous, sign = s[SEEN], s[PREV_PRICE], s[PREV_SIGN]
    bar, ticks, theta = s[BAR], s[TICKS], s[THETA]
    imb_num, imb_den, len_num, len_den = s[IMB_NUM], s[IMB_DEN], s[LEN_NUM], s[LEN_DEN]
    expected_ticks, expected_imbalance = s[EXP_TICKS], s[EXP_IMB]
    for i in range(price.shape[0]):
        sign = trade_sign(price[i], previous, sign, seen, side[i], use_side)
        previous = price[i]
        seen += 1.0
        signed = sign * metric[i]
        theta += signed
        ticks += 1.0
        if imb_alpha > 0:
            imb_num = signed + (1.0 - imb_alpha) * imb_num
            imb_den = 1.0 + (1.0 - imb_alpha) * imb_den
            if math.isnan(expected_imbalance) and seen >= warm_up:
                expected_imbalance = imb_num / imb_den
        out[i] = int(bar)
        if math.isnan(expected_imbalance) or theta == 0.0:
            continue
        if abs(theta) >= expected_ticks * abs(expected_imbalance):
            bar += 1.0
            if bar_alpha > 0:
                len_num = ticks + (1.0 - bar_alpha) * len_num
                len_den = 1.0 + (1.0 - bar_alpha) * len_den
                expected_ticks = min(max(len_num / len_den, low), high)
            if imb_alpha > 0:
                expected_imbalance = imb_num / imb_den
            ticks = 0.0
            theta = 0.0
    s[SEEN], s[PREV_PRICE], s[PREV_SIGN] = seen, previous, sign
    s[BAR], s[TICKS], s[THETA] = bar, ticks, theta
    s[IMB_NUM], s[IMB_DEN], s[LEN_NUM], s[LEN_DEN] = imb_num, imb_den, len_num, len_den
    s[EXP_TICKS], s[EXP_IMB] = expected_ticks, expected_imbalance


@njit
def cusum_events(x: np.ndarray, threshold: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Symmetric CUSUM filter (AFML snippet 2.4) on the changes of ``x``.

    ``S+ = max(0, S+ + dx)``, ``S- = min(0, S- + dx)``; ``S- < -h`` marks a down event
    (-1) and resets ``S-``, else ``S+ > h`` marks an up event (+1) and resets ``S+``; 0
    means no event. Missing values are skipped; a missing threshold marks no event.
    """
    seen, previous, up, down = s[0], s[1], s[2], s[3]
    for i in range(x.shape[0]):
        out[i] = 0
        value = x[i]
        if math.isnan(value):
            continue
        if seen == 0:
            seen = 1.0
            previous = value
            continue
        change = value - previous
        previous = value
        up = max(0.0, up + change)
        down = min(0.0, down + change)
        h = threshold[i]
        if math.isnan(h):
            continue
        if down < -h:
            down = 0.0
            out[i] = -1
        elif up > h:
            up = 0.0
            out[i] = 1
    s[0], s[1], s[2], s[3] = seen, previous, up, down


@njit
def barrier_touches(
    close: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    target: np.ndarray,
    side: np.ndarray,
    pt: float,
    sl: float,
    touch: np.ndarray,
    barrier: np.ndarray,
) -> None:
    """The first row in ``(start, end]`` where the close crosses a horizontal barrier.

    For an event at row ``i`` the profit-taking barrier is the price
    ``close[i]·(1 + side·pt·target)`` and the stop-loss ``close[i]·(1 - side·sl·target)``;
    the close must pass strictly beyond it. ``pt`` or ``sl`` of 0 disables that barrier.
    Writes the touching row (``end`` when no barrier is hit) and which barrier it was:
    1 profit-taking, -1 stop-loss, 0 none.
    """
    for e in range(start.shape[0]):
        i, last = start[e], end[e]
        base, direction = close[i], side[e]
        upper = base * (1.0 + direction * pt * target[e])
        lower = base * (1.0 - direction * sl * target[e])
        touch[e], barrier[e] = last, 0
        for j in range(i + 1, last + 1):
            price = close[j]
            gain = price > upper if direction > 0 else price < upper
            loss = price < lower if direction > 0 else price > lower
            if pt > 0 and gain:
                touch[e], barrier[e] = j, 1
                break
            if sl > 0 and loss:
                touch[e], barrier[e] = j, -1
                break
