"""Kernels over rolling highs and lows (AROON, MIDPOINT, MIDPRICE, Donchian) and the
Keltner channel.

AROON needs the bar of each extreme: a tracker keeps it with a ring buffer of the window
and scans the window again only when that bar leaves it; ties go to the newest bar, as in
TA-Lib. The channels need only the values and use blocks (see ``channel``).
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ema_next, wilder_next

# A tracker's slots: the row of the extreme, its value.
TRACKER = 2


@njit(inline="always")
def highest_next(
    buf: np.ndarray, width: int, row: int, slot: int, at: int, best: float
) -> tuple[int, float]:
    """(row, value) of the highest of rows ``row-width+1..row`` once ``buf[slot]`` holds
    row's value; ``at``/``best`` are the answer for the previous row (``at`` -width before
    the first row, which makes it scan)."""
    value = buf[slot]
    if at <= row - width:  # the highest left the window: scan it again, oldest first
        at = max(row - width + 1, 0)
        k = slot - (row - at)
        if k < 0:
            k += width
        best = buf[k]
        for j in range(at + 1, row + 1):
            k += 1
            if k == width:
                k = 0
            if buf[k] >= best:
                at, best = j, buf[k]
    elif value >= best:
        at, best = row, value
    return at, best


@njit(inline="always")
def lowest_next(
    buf: np.ndarray, width: int, row: int, slot: int, at: int, best: float
) -> tuple[int, float]:
    """``highest_next`` for the lowest value."""
    value = buf[slot]
    if at <= row - width:
        at = max(row - width + 1, 0)
        k = slot - (row - at)
        if k < 0:
            k += width
        best = buf[k]
        for j in range(at + 1, row + 1):
            k += 1
            if k == width:
                k = 0
            if buf[k] <= best:
                at, best = j, buf[k]
    elif value <= best:
        at, best = row, value
    return at, best


@njit(inline="always")
def aroon(inputs: np.ndarray, n: int, oscillator: bool, s: np.ndarray, out: np.ndarray) -> None:
    """Aroon down and up (or the oscillator) over the last n+1 bars, from bar n."""
    high, low = inputs[0], inputs[1]
    width = n + 1
    highs, lows = s[5 : 5 + width], s[5 + width : 5 + 2 * width]
    row, hi_at, hi, lo_at, lo = int(s[0]), int(s[1]), float(s[2]), int(s[3]), float(s[4])
    if row == 0:
        hi_at, lo_at = -width, -width
    factor = 100.0 / n
    slot = row % width
    for i in range(high.shape[0]):
        highs[slot] = high[i]
        lows[slot] = low[i]
        hi_at, hi = highest_next(highs, width, row, slot, hi_at, hi)
        lo_at, lo = lowest_next(lows, width, row, slot, lo_at, lo)
        slot = slot + 1 if slot + 1 < width else 0
        warm = row < n
        if oscillator:
            out[0, i] = NAN if warm else factor * (hi_at - lo_at)
        else:
            out[0, i] = NAN if warm else factor * (n - (row - lo_at))
            out[1, i] = NAN if warm else factor * (n - (row - hi_at))
        row += 1
    s[0], s[1], s[2], s[3], s[4] = row, hi_at, hi, lo_at, lo


@njit
def aroon_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Aroon down and up: 100 · (n - bars since the lowest low / highest high) / n over
    the last n+1 bars."""
    aroon(inputs, int(params[0]), False, s, out)


@njit
def aroonosc_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Aroon up - Aroon down, as 100/n · (bar of the high - bar of the low)."""
    aroon(inputs, int(params[0]), True, s, out)


def aroon_state(params: np.ndarray) -> int:
    """[row, high at, high, low at, low, two rings of n+1]."""
    return 1 + 2 * TRACKER + 2 * (int(params[0]) + 1)


@njit(inline="always")
def channel(
    high: np.ndarray, low: np.ndarray, n: int, bands: bool, s: np.ndarray, out: np.ndarray
) -> None:
    """Highest ``high`` and lowest ``low`` over n rows, from row n-1: their middle, or
    (``bands``) upper, middle and lower.

    Rows fall in blocks of n (van Herk / Gil-Werman). A window ending at offset r of a
    block is the tail of the previous block after offset r plus the current block up to
    r: the maximum of the previous block's suffix maximum at r+1 and the running maximum
    of this block. When a block ends its buffer is turned into suffix extremes in place;
    the next block overwrites slot r only once suffix r is no longer needed. O(1) per
    row, without branches that depend on the data.
    """
    highs, lows = s[3 : 3 + n], s[3 + n : 3 + 2 * n]
    row, top, bottom = s[0], float(s[1]), float(s[2])
    r = int(row % n)
    if r == 0:
        top, bottom = -np.inf, np.inf
    for i in range(high.shape[0]):
        highs[r] = high[i]
        lows[r] = low[i]
        top = max(top, high[i])
        bottom = min(bottom, low[i])
        hi, lo = top, bottom
        if r < n - 1:
            hi = max(highs[r + 1], hi)  # still the previous block's suffix extremes
            lo = min(lows[r + 1], lo)
            r += 1
        else:
            for j in range(n - 2, -1, -1):
                highs[j] = max(highs[j], highs[j + 1])
                lows[j] = min(lows[j], lows[j + 1])
            r = 0
            top, bottom = -np.inf, np.inf
        warm = row < n - 1
        if bands:
            out[0, i] = NAN if warm else hi
            out[1, i] = NAN if warm else (hi + lo) / 2.0
            out[2, i] = NAN if warm else lo
        else:
            out[0, i] = NAN if warm else (hi + lo) / 2.0
        row += 1
    s[0], s[1], s[2] = row, top, bottom


def channel_state(params: np.ndarray) -> int:
    """[row, running high, running low, the two block buffers of n]."""
    return 3 + 2 * int(params[0])


@njit
def midpoint_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """(highest + lowest) / 2 of one series over n bars."""
    channel(inputs[0], inputs[0], int(params[0]), False, s, out)


@njit
def midprice_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """(highest high + lowest low) / 2 over n bars."""
    channel(inputs[0], inputs[1], int(params[0]), False, s, out)


@njit
def donchian_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Donchian channel over n bars: highest high, the middle, lowest low."""
    channel(inputs[0], inputs[1], int(params[0]), True, s, out)


@njit
def keltner_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Keltner channel: EMA(close, n) ± multiplier · ATR(n_atr); upper, middle, lower,
    from the first bar where both exist."""
    n, multiplier, n_atr = int(params[0]), params[1], int(params[2])
    k = 2.0 / (n + 1)
    high, low, close = inputs[0], inputs[1], inputs[2]
    e_count, e_seed, ema = float(s[0]), float(s[1]), float(s[2])
    seen, previous = s[3], float(s[4])
    a_count, a_seed, atr = float(s[5]), float(s[6]), float(s[7])
    for i in range(high.shape[0]):
        e_count, e_seed, ema, middle = ema_next(n, k, e_count, e_seed, ema, close[i])
        width = NAN
        if seen:
            tr = max(high[i] - low[i], abs(high[i] - previous), abs(low[i] - previous))
            a_count, a_seed, atr, width = wilder_next(n_atr, a_count, a_seed, atr, tr)
        seen, previous = 1.0, close[i]
        if math.isnan(middle) or math.isnan(width):
            out[0, i], out[1, i], out[2, i] = NAN, NAN, NAN
            continue
        out[0, i] = middle + multiplier * width
        out[1, i] = middle
        out[2, i] = middle - multiplier * width
    s[0], s[1], s[2], s[3], s[4] = e_count, e_seed, ema, seen, previous
    s[5], s[6], s[7] = a_count, a_seed, atr


def keltner_state(params: np.ndarray) -> int:
    return 8
