"""Kernels of trade classification and order flow: tick, quote and Lee-Ready rules,
signed volume, cumulative delta, trade imbalance, Cont-Kukanov-Stoikov order-flow
imbalance and VPIN (bulk volume classification is in ``bulk``).

Prices are compared in whole ticks (``floor(price / tick + 0.5)``), never as floats: the
float mid of 10.00/10.01 is 10.004999999999999, which would call a trade at 10.005 a buy.
A trade print is valid when its price is a number and its size is positive; other rows
are not trades (null per-trade outputs, running outputs carry over, state unchanged).

Signed-flow kernels take the sign from ``side`` (+1 buyer, -1 seller aggressor) when it
is known and fall back to the tick rule when it is 0 or missing.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN

# Tick-rule state: [seen, last price in ticks, last sign] at the start of every state.
TICK = 3


@njit(inline="always")
def to_ticks(price: float, tick: float) -> float:
    return math.floor(price / tick + 0.5)


@njit(inline="always")
def tick_next(seen: float, last: float, sign: float, ticks: float) -> tuple[float, float, float]:
    """Tick rule: the sign of the last non-zero price change; 0 until one is seen."""
    if seen != 0.0:
        if ticks > last:
            sign = 1.0
        elif ticks < last:
            sign = -1.0
    return 1.0, ticks, sign


@njit(inline="always")
def valid_print(price: float, size: float) -> bool:
    return not math.isnan(price) and size > 0.0


@njit(inline="always")
def quote_sign(ticks: float, bid: float, ask: float, tick: float) -> float:
    """+1 above the mid, -1 below, 0 at it; NaN when the quote is missing, crossed or
    locked (then the quote rule says nothing)."""
    if math.isnan(bid) or math.isnan(ask):
        return NAN
    low, high = to_ticks(bid, tick), to_ticks(ask, tick)
    if high <= low:
        return NAN
    twice, mid2 = 2.0 * ticks, low + high  # compare 2p with bid + ask: whole numbers
    if twice > mid2:
        return 1.0
    if twice < mid2:
        return -1.0
    return 0.0


@njit(inline="always")
def aggressor(side: float, fallback: float) -> float:
    if side > 0.0:
        return 1.0
    if side < 0.0:
        return -1.0
    return fallback


@njit
def tick_rule_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Sign of the last price change (0 for the first trade)."""
    price, size = inputs[0], inputs[1]
    tick = params[0]
    seen, last, sign = float(s[0]), float(s[1]), float(s[2])
    for i in range(price.shape[0]):
        out[0, i] = NAN
        if valid_print(price[i], size[i]):
            seen, last, sign = tick_next(seen, last, sign, to_ticks(price[i], tick))
            out[0, i] = sign
    s[0], s[1], s[2] = seen, last, sign


@njit
def quote_rule_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """+1 above the prevailing mid, -1 below, 0 at it; null without a usable quote."""
    price, size, bid, ask = inputs[0], inputs[1], inputs[2], inputs[3]
    tick = params[0]
    for i in range(price.shape[0]):
        out[0, i] = NAN
        if valid_print(price[i], size[i]):
            out[0, i] = quote_sign(to_ticks(price[i], tick), bid[i], ask[i], tick)


@njit
def lee_ready_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """The quote rule, with the tick rule at the mid or without a usable quote; the second
    output is 1 where the tick rule decided."""
    price, size, bid, ask = inputs[0], inputs[1], inputs[2], inputs[3]
    tick = params[0]
    seen, last, sign = float(s[0]), float(s[1]), float(s[2])
    for i in range(price.shape[0]):
        out[0, i] = NAN
        out[1, i] = NAN
        if not valid_print(price[i], size[i]):
            continue
        ticks = to_ticks(price[i], tick)
        seen, last, sign = tick_next(seen, last, sign, ticks)
        by_quote = quote_sign(ticks, bid[i], ask[i], tick)
        fallback = math.isnan(by_quote) or by_quote == 0.0
        out[0, i] = sign if fallback else by_quote
        out[1, i] = 1.0 if fallback else 0.0
    s[0], s[1], s[2] = seen, last, sign


@njit
def signed_volume_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """b·v with b the aggressor side, or the tick rule where the side is unknown."""
    price, size, side = inputs[0], inputs[1], inputs[2]
    tick = params[0]
    seen, last, sign = float(s[0]), float(s[1]), float(s[2])
    for i in range(price.shape[0]):
        out[0, i] = NAN
        if valid_print(price[i], size[i]):
            seen, last, sign = tick_next(seen, last, sign, to_ticks(price[i], tick))
            out[0, i] = aggressor(side[i], sign) * size[i]
    s[0], s[1], s[2] = seen, last, sign


@njit
def cumulative_delta_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """Running sum of signed volume since the start of the series."""
    price, size, side = inputs[0], inputs[1], inputs[2]
    tick = params[0]
    seen, last, sign, total = float(s[0]), float(s[1]), float(s[2]), float(s[3])
    for i in range(price.shape[0]):
        if valid_print(price[i], size[i]):
            seen, last, sign = tick_next(seen, last, sign, to_ticks(price[i], tick))
            total += aggressor(side[i], sign) * size[i]
        out[0, i] = total
    s[0], s[1], s[2], s[3] = seen, last, sign, total


def cumulative_delta_state(params: np.ndarray) -> int:
    return TICK + 1


# OFI state: [linked, bid ticks, bid size, ask ticks, ask size, count, position, total,
# pushes since the total was recomputed], then a ring of the window's contributions.
OFI = 9


@njit(inline="always")
def ofi_event(bid: float, ask: float, bid_size: float, ask_size: float, prev: np.ndarray) -> float:
    """e_n of Cont, Kukanov and Stoikov from the previous book ``prev`` (bid and ask in
    ticks, their sizes)."""
    e = 0.0
    if bid >= prev[0]:
        e += bid_size
    if bid <= prev[0]:
        e -= prev[1]
    if ask <= prev[2]:
        e -= ask_size
    if ask >= prev[2]:
        e += prev[3]
    return e


@njit
def ofi_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Sum of e_n over the last n quote events. The first event of a chain adds 0; a
    crossed or locked book is skipped (the chain goes on from the last sound book); a
    missing price or size or an empty side restarts the chain. Both add 0 to later
    windows, and their own rows are null."""
    bid, ask, bid_size, ask_size = inputs[0], inputs[1], inputs[2], inputs[3]
    n, tick = int(params[0]), params[1]
    book = s[1:5]
    linked, count, pos, total, steps = s[0], float(s[5]), int(s[6]), float(s[7]), float(s[8])
    ring = s[OFI : OFI + n]
    for i in range(bid.shape[0]):
        e = 0.0
        low, high = to_ticks(bid[i], tick), to_ticks(ask[i], tick)
        sized = bid_size[i] > 0.0 and ask_size[i] > 0.0  # False on NaN
        usable = sized and high > low
        if not sized or math.isnan(low + high):
            linked = 0.0
        elif usable:
            if linked != 0.0:
                e = ofi_event(low, high, bid_size[i], ask_size[i], book)
            book[0], book[1], book[2], book[3] = low, bid_size[i], high, ask_size[i]
            linked = 1.0
        if count >= n:
            total -= ring[pos]
        ring[pos] = e
        pos = pos + 1 if pos + 1 < n else 0
        count += 1.0
        total += e
        steps += 1.0
        if steps >= n:  # recompute the total: a running one drifts
            steps, total = 0.0, 0.0
            for j in range(int(min(count, n))):
                total += ring[j]
        out[0, i] = total if count >= n and usable else NAN
    s[0], s[5], s[6], s[7], s[8] = linked, count, pos, total, steps


def ofi_state(params: np.ndarray) -> int:
    return OFI + int(params[0])


# Trade imbalance state after the tick rule: count, position, buy volume, sell volume,
# buy trades, sell trades, pushes since the sums were recomputed, the last two outputs,
# then a ring of the window's signed volumes.
IMB = TICK + 9


@njit
def trade_imbalance_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """(V_buy - V_sell) / (V_buy + V_sell) and (N_buy - N_sell) / (N_buy + N_sell) over the
    last n trades; unclassified trades count in neither. Null on an empty window."""
    price, size, side = inputs[0], inputs[1], inputs[2]
    n, tick = int(params[0]), params[1]
    seen, last, sign = float(s[0]), float(s[1]), float(s[2])
    count, pos, buy, sell = float(s[3]), int(s[4]), float(s[5]), float(s[6])
    n_buy, n_sell, steps = float(s[7]), float(s[8]), float(s[9])
    by_volume, by_count = float(s[10]), float(s[11])
    ring = s[IMB : IMB + n]
    if count == 0.0:
        by_volume, by_count = NAN, NAN
    for i in range(price.shape[0]):
        if valid_print(price[i], size[i]):
            seen, last, sign = tick_next(seen, last, sign, to_ticks(price[i], tick))
            flow = aggressor(side[i], sign) * size[i]
            if count >= n:
                leaving = ring[pos]
                if leaving > 0.0:
                    buy -= leaving
                    n_buy -= 1.0
                elif leaving < 0.0:
                    sell += leaving
                    n_sell -= 1.0
            ring[pos] = flow
            pos = pos + 1 if pos + 1 < n else 0
            count += 1.0
            if flow > 0.0:
                buy += flow
                n_buy += 1.0
            elif flow < 0.0:
                sell -= flow
                n_sell += 1.0
            steps += 1.0
            if steps >= n:  # recompute the sums: running ones drift
                steps, buy, sell = 0.0, 0.0, 0.0
                for j in range(int(min(count, n))):
                    buy += max(ring[j], 0.0)
                    sell -= min(ring[j], 0.0)
            by_volume, by_count = NAN, NAN
            if count >= n and buy + sell > 0.0:
                by_volume = (buy - sell) / (buy + sell)
            if count >= n and n_buy + n_sell > 0.0:
                by_count = (n_buy - n_sell) / (n_buy + n_sell)
        out[0, i] = by_volume
        out[1, i] = by_count
    s[0], s[1], s[2], s[3], s[4], s[5], s[6] = seen, last, sign, count, pos, buy, sell
    s[7], s[8], s[9], s[10], s[11] = n_buy, n_sell, steps, by_volume, by_count


def trade_imbalance_state(params: np.ndarray) -> int:
    return IMB + int(params[0])


# VPIN state after the tick rule: volume in the open bucket, its buy volume, buckets
# completed, ring position, the last VPIN (NaN before n buckets: fresh states hold 0),
# then a ring of the last n bucket imbalances.
BUCKETS = 5
VP = TICK + BUCKETS


@njit(inline="always")
def vpin_close(
    ring: np.ndarray, n: int, done: float, pos: int, imbalance: float
) -> tuple[float, int, float]:
    """Record a completed bucket: (buckets done, ring position, VPIN or NaN)."""
    ring[pos] = imbalance
    pos = pos + 1 if pos + 1 < n else 0
    done += 1.0
    if done < n:
        return done, pos, NAN
    total = 0.0
    for j in range(n):
        total += ring[j]
    return done, pos, total


@njit(inline="always")
def bucket_fill(
    ring: np.ndarray,
    n: int,
    bucket: float,
    volume: float,
    share: float,
    state: tuple[float, float, float, int, float],
) -> tuple[float, float, float, int, float]:
    """Pour ``volume`` (a ``share`` of it bought) into buckets of ``bucket``, splitting it
    at bucket ends. ``state`` and the result: (volume in the open bucket, its buy volume,
    buckets done, ring position, VPIN: the last one, or NaN before n buckets)."""
    filled, bought, done, pos, value = state
    while volume > 0.0:
        room = bucket - filled
        if volume < room:
            return filled + volume, bought + volume * share, done, pos, value
        bought += room * share
        volume -= room
        done, pos, total = vpin_close(ring, n, done, pos, abs(2.0 * bought - bucket))
        filled, bought = 0.0, 0.0
        whole = math.floor(volume / bucket)
        if whole >= 1.0:  # whole buckets of this one print, recorded at once
            for _ in range(int(min(whole, n))):
                done, pos, total = vpin_close(ring, n, done, pos, abs(2.0 * share - 1.0) * bucket)
            done += whole - min(whole, n)
            volume -= whole * bucket
        if not math.isnan(total):
            value = total / (n * bucket)
    return filled, bought, done, pos, value


@njit
def vpin_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    """Σ|V_buy - V_sell| / (n·V) over the last n buckets of volume V. Trades overflowing a
    bucket are split; unclassified volume counts half to each side. The value changes
    only when a bucket completes and is carried until the next one."""
    price, size, side = inputs[0], inputs[1], inputs[2]
    bucket, n, tick = params[0], int(params[1]), params[2]
    seen, last, sign = float(s[0]), float(s[1]), float(s[2])
    state = (float(s[3]), float(s[4]), float(s[5]), int(s[6]), s[7] if s[5] >= n else NAN)
    ring = s[VP : VP + n]
    for i in range(price.shape[0]):
        if valid_print(price[i], size[i]):
            seen, last, sign = tick_next(seen, last, sign, to_ticks(price[i], tick))
            b = aggressor(side[i], sign)
            share = 1.0 if b > 0.0 else (0.0 if b < 0.0 else 0.5)
            state = bucket_fill(ring, n, bucket, size[i], share, state)
        out[0, i] = state[4]
    s[0], s[1], s[2] = seen, last, sign
    s[3], s[4], s[5], s[6], s[7] = state


def vpin_state(params: np.ndarray) -> int:
    return VP + int(params[1])
