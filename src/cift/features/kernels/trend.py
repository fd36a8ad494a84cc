"""Kernels of Wilder's directional movement family and the parabolic SAR (TA-Lib conventions).

The directional indicators share one bar step: +DM and -DM (the part of today's range
outside yesterday's, whichever is larger) and the true range, summed over bars 1..n-1 and
then smoothed as ``prev - prev/n + today``. Every division is TA-Lib's, in its order, so
the outputs equal TA-Lib's bit for bit on ordinary data.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ring_push, window_size

# Output of the directional kernels.
PLUS, MINUS, DX, ADX, ADXR = 0, 1, 2, 3, 4
# State slots: bars seen, the previous bar, the three smoothed sums.
ROW, HIGH, LOW, CLOSE, PLUS_DM, MINUS_DM, RANGE = 0, 1, 2, 3, 4, 5, 6
# TA-Lib's zero band for the sum of the two DIs.
EPSILON = 1e-14


@njit(inline="always")
def movement_next(
    n: int,
    row: float,
    high: float,
    low: float,
    close: float,
    prev_high: float,
    prev_low: float,
    prev_close: float,
    plus: float,
    minus: float,
    tr: float,
) -> tuple[float, float, float]:
    """+DM, -DM and true range of bar ``row`` (>= 1) added to their sums (bars 1..n-1)
    or Wilder-smoothed into them (later bars): (plus, minus, tr)."""
    up = high - prev_high
    down = prev_low - low
    span = max(high - low, abs(high - prev_close), abs(low - prev_close))
    if row < n:
        if down > 0 and up < down:
            minus += down
        elif up > 0 and up > down:
            plus += up
        return plus, minus, tr + span
    minus -= minus / n
    plus -= plus / n
    if down > 0 and up < down:
        minus += down
    elif up > 0 and up > down:
        plus += up
    return plus, minus, tr - tr / n + span


@njit(inline="always")
def index_next(plus: float, minus: float, tr: float) -> float:
    """DX from the smoothed sums, or NaN where TA-Lib leaves it undefined (no range, or
    both DIs zero)."""
    if tr == 0.0:
        return NAN
    minus_di = 100.0 * (minus / tr)
    plus_di = 100.0 * (plus / tr)
    total = minus_di + plus_di
    if -EPSILON < total < EPSILON:
        return NAN
    return 100.0 * (abs(minus_di - plus_di) / total)


@njit(inline="always")
def movement(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    n: int,
    which: int,
    s: np.ndarray,
    out: np.ndarray,
) -> None:
    """PLUS_DM/MINUS_DM (``which`` PLUS or MINUS, from bar n-1; ``close`` unused) or
    PLUS_DI/MINUS_DI (``which`` + 2, from bar n; 0 when the range sum is 0)."""
    row, ph, pl, pc = s[ROW], float(s[HIGH]), float(s[LOW]), float(s[CLOSE])
    plus, minus, tr = float(s[PLUS_DM]), float(s[MINUS_DM]), float(s[RANGE])
    index = which >= 2
    for i in range(high.shape[0]):
        if row > 0:
            plus, minus, tr = movement_next(
                n, row, high[i], low[i], close[i], ph, pl, pc, plus, minus, tr
            )
        ph, pl, pc = high[i], low[i], close[i]
        dm = plus if which % 2 == PLUS else minus
        if not index:
            out[0, i] = dm if row >= n - 1 else NAN
        elif row < n:
            out[0, i] = NAN
        else:
            out[0, i] = 100.0 * (dm / tr) if tr != 0.0 else 0.0
        row += 1
    s[ROW], s[HIGH], s[LOW], s[CLOSE] = row, ph, pl, pc
    s[PLUS_DM], s[MINUS_DM], s[RANGE] = plus, minus, tr


@njit
def plus_dm_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """+DM: Wilder-smoothed upward directional movement."""
    movement(inputs[0], inputs[1], inputs[1], int(params[0]), PLUS, s, out)


@njit
def minus_dm_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """-DM: Wilder-smoothed downward directional movement."""
    movement(inputs[0], inputs[1], inputs[1], int(params[0]), MINUS, s, out)


@njit
def plus_di_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """+DI = 100 · +DM / TR (both smoothed)."""
    movement(inputs[0], inputs[1], inputs[2], int(params[0]), PLUS + 2, s, out)


@njit
def minus_di_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """-DI = 100 · -DM / TR (both smoothed)."""
    movement(inputs[0], inputs[1], inputs[2], int(params[0]), MINUS + 2, s, out)


def movement_state(params: np.ndarray) -> int:
    return 7


@njit(inline="always")
def directional_index(
    inputs: np.ndarray, n: int, which: int, s: np.ndarray, out: np.ndarray
) -> None:
    """DX (from bar n), ADX (from bar 2n-1) or ADXR (from bar 3n-2), ``which`` DX, ADX
    or ADXR. Where DX is undefined, DX repeats its last value (0 at first) and ADX keeps
    its value, as in TA-Lib."""
    high, low, close = inputs[0], inputs[1], inputs[2]
    row, ph, pl, pc = s[ROW], float(s[HIGH]), float(s[LOW]), float(s[CLOSE])
    plus, minus, tr = float(s[PLUS_DM]), float(s[MINUS_DM]), float(s[RANGE])
    dx, adx = float(s[7]), float(s[8])  # for ADX(R), dx sums the first n DX
    lag = n - 1
    ring = s[11 : 11 + lag]
    count, pos = float(s[9]), int(s[10])
    first_adx = 2 * n - 1
    for i in range(high.shape[0]):
        value = NAN
        if row > 0:
            plus, minus, tr = movement_next(
                n, row, high[i], low[i], close[i], ph, pl, pc, plus, minus, tr
            )
        ph, pl, pc = high[i], low[i], close[i]
        if row >= n:
            today = index_next(plus, minus, tr)
            if which == DX:
                if not math.isnan(today):
                    dx = today
                value = dx
            elif row <= first_adx:
                if not math.isnan(today):
                    dx += today
                if row == first_adx:
                    adx = dx / n
                    value = adx
            else:
                if not math.isnan(today):
                    adx = (adx * (n - 1) + today) / n
                value = adx
            if which == ADXR and row >= first_adx:
                count, pos, before = ring_push(ring, lag, count, pos, adx)
                value = (adx + before) / 2.0
        out[0, i] = value
        row += 1
    s[ROW], s[HIGH], s[LOW], s[CLOSE] = row, ph, pl, pc
    s[PLUS_DM], s[MINUS_DM], s[RANGE] = plus, minus, tr
    s[7], s[8], s[9], s[10] = dx, adx, count, pos


@njit
def dx_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """DX = 100 · |+DI - -DI| / (+DI + -DI)."""
    directional_index(inputs, int(params[0]), DX, s, out)


@njit
def adx_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """ADX: the mean of the first n DX, then Wilder-smoothed."""
    directional_index(inputs, int(params[0]), ADX, s, out)


@njit
def adxr_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """ADXR = (ADX + ADX n-1 bars earlier) / 2."""
    directional_index(inputs, int(params[0]), ADXR, s, out)


def directional_state(params: np.ndarray) -> int:
    return 9 + int(window_size(int(params[0]) - 1))


@njit
def sar_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Parabolic SAR. The first trend is short if bar 1 has a -DM, else long; the first
    SAR (bar 1) is bar 0's low (long) or high (short)."""
    high, low = inputs[0], inputs[1]
    step, ceiling = params[0], params[1]
    step = min(step, ceiling)
    row, last_high, last_low = s[0], float(s[1]), float(s[2])
    long, af, ep, sar = s[3], float(s[4]), float(s[5]), float(s[6])
    for i in range(high.shape[0]):
        new_high, new_low = high[i], low[i]
        prev_high, prev_low = last_high, last_low
        last_high, last_low = new_high, new_low
        row += 1
        if row == 1:
            out[0, i] = NAN
            continue
        if row == 2:
            down = prev_low - new_low
            long = 0.0 if down > 0 and new_high - prev_high < down else 1.0
            af = step
            ep, sar = (new_high, prev_low) if long else (new_low, prev_high)
            prev_high, prev_low = new_high, new_low
        if long:
            if new_low <= sar:  # reverse to short
                long = 0.0
                sar = max(ep, prev_high, new_high)
                out[0, i] = sar
                af = step
                ep = new_low
                sar = max(sar + af * (ep - sar), prev_high, new_high)
                continue
            out[0, i] = sar
            if new_high > ep:
                ep = new_high
                af = min(af + step, ceiling)
            sar = min(sar + af * (ep - sar), prev_low, new_low)
        else:
            if new_high >= sar:  # reverse to long
                long = 1.0
                sar = min(ep, prev_low, new_low)
                out[0, i] = sar
                af = step
                ep = new_high
                sar = min(sar + af * (ep - sar), prev_low, new_low)
                continue
            out[0, i] = sar
            if new_low < ep:
                ep = new_low
                af = min(af + step, ceiling)
            sar = max(sar + af * (ep - sar), prev_high, new_high)
    s[0], s[1], s[2] = row, last_high, last_low
    s[3], s[4], s[5], s[6] = long, af, ep, sar


def sar_state(params: np.ndarray) -> int:
    return 7
