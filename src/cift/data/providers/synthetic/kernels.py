"""Numba kernels of the simulator: the minute path, the events inside minutes, bars."""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit

MINUTE_NS = 60 * 10**9


@njit(nogil=True)
def minute_path(
    shape: np.ndarray,
    noise: np.ndarray,
    flow: np.ndarray,
    variance: float,
    alpha: float,
    beta: float,
    impact: float,
    signal: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per minute: volatility, log return and GARCH multiplier, in one pass over the day.

    The standardised return is ``impact * flow[m] + signal * flow[m-1] + rest * noise[m]``:
    order flow moves the price in its own minute and, by ``signal``, in the next one.
    """
    minutes = shape.shape[0]
    share = shape / shape.sum()
    rest = math.sqrt(1.0 - impact * impact - signal * signal)
    sigma = np.empty(minutes)
    returns = np.empty(minutes)
    levels = np.empty(minutes)
    level = 1.0
    for m in range(minutes):
        levels[m] = level
        sigma[m] = math.sqrt(variance * share[m] * level)
        lagged = flow[m - 1] if m > 0 else 0.0
        z = impact * flow[m] + signal * lagged + rest * noise[m]
        returns[m] = sigma[m] * z
        level = (1.0 - alpha - beta) + (alpha * z * z + beta) * level
    return sigma, returns, levels


@njit(nogil=True)
def events(
    minute_starts: np.ndarray,
    counts: np.ndarray,
    levels: np.ndarray,
    returns: np.ndarray,
    sigma: np.ndarray,
    spread: np.ndarray,
    buy_probability: np.ndarray,
    when: np.ndarray,
    which: np.ndarray,
    bridge: np.ndarray,
    trade_share: float,
    ticks_per_unit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Time, bid, ask and trade side (0 for a quote-only update) of every event.

    Inside minute ``m`` the log mid follows a Brownian bridge from ``levels[m]`` to
    ``levels[m] + returns[m]``; each event quotes the mid less and plus half the spread,
    rounded to ticks (at least one tick apart), and a trade event executes at the ask
    (buyer aggressor) or the bid (seller aggressor).
    """
    total = counts.sum()
    ts = np.empty(total, np.int64)
    bid = np.empty(total)
    ask = np.empty(total)
    side = np.zeros(total, np.int8)
    path = np.empty(counts.max() if total else 0)
    first, normal, last_ts = 0, 0, np.int64(-1)
    for m in range(counts.shape[0]):
        n = counts[m]
        offsets = np.sort(when[first : first + n])
        walk, previous = 0.0, 0.0
        for i in range(n):
            walk += sigma[m] * math.sqrt(offsets[i] - previous) * bridge[normal]
            path[i] = walk
            previous = offsets[i]
            normal += 1
        end = walk + sigma[m] * math.sqrt(1.0 - previous) * bridge[normal]
        normal += 1
        for i in range(n):
            j = first + i
            mid = math.exp(levels[m] + path[i] - offsets[i] * (end - returns[m]))
            half = 0.5 * spread[m] * mid
            low = max(round((mid - half) * ticks_per_unit), 1.0)
            high = max(round((mid + half) * ticks_per_unit), low + 1.0)
            bid[j] = low / ticks_per_unit
            ask[j] = high / ticks_per_unit
            last_ts = max(minute_starts[m] + np.int64(offsets[i] * MINUTE_NS), last_ts + 1)
            ts[j] = last_ts
            if which[j] < trade_share:
                side[j] = 1 if which[j] < trade_share * buy_probability[m] else -1
        first += n
    return ts, bid, ask, side


@njit(nogil=True)
def aggregate(
    keys: np.ndarray, price: np.ndarray, size: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bars of trades grouped by ``keys`` (window open times, non-decreasing).

    Returns the window times, a float matrix (open, high, low, close, volume, vwap) and the
    trade counts.
    """
    n = keys.shape[0]
    bars = 0
    for i in range(n):
        if i == 0 or keys[i] != keys[i - 1]:
            bars += 1
    times = np.empty(bars, np.int64)
    values = np.empty((bars, 6))
    counts = np.zeros(bars, np.int64)
    notional = np.zeros(bars)
    b = -1
    for i in range(n):
        p = price[i]
        if i == 0 or keys[i] != keys[i - 1]:
            b += 1
            times[b] = keys[i]
            values[b, 0] = p
            values[b, 1] = p
            values[b, 2] = p
            values[b, 4] = 0.0
        values[b, 1] = max(values[b, 1], p)
        values[b, 2] = min(values[b, 2], p)
        values[b, 3] = p
        values[b, 4] += size[i]
        notional[b] += p * size[i]
        counts[b] += 1
    for b in range(bars):
        vwap = notional[b] / values[b, 4]
        values[b, 5] = min(max(vwap, values[b, 2]), values[b, 1])
    return times, values, counts


@njit(nogil=True)
def combine(
    times: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge consecutive bars with the same time (a window that spans two sessions)."""
    n = times.shape[0]
    out_times = np.empty(n, np.int64)
    out_values = np.empty((n, 6))
    out_counts = np.empty(n, np.int64)
    b = -1
    for i in range(n):
        if b >= 0 and times[i] == out_times[b]:
            volume = out_values[b, 4] + values[i, 4]
            vwap = (out_values[b, 5] * out_values[b, 4] + values[i, 5] * values[i, 4]) / volume
            out_values[b, 1] = max(out_values[b, 1], values[i, 1])
            out_values[b, 2] = min(out_values[b, 2], values[i, 2])
            out_values[b, 3] = values[i, 3]
            out_values[b, 4] = volume
            out_values[b, 5] = min(max(vwap, out_values[b, 2]), out_values[b, 1])
            out_counts[b] += counts[i]
        else:
            b += 1
            out_times[b] = times[i]
            out_values[b] = values[i]
            out_counts[b] = counts[i]
    return out_times[: b + 1], out_values[: b + 1], out_counts[: b + 1]
