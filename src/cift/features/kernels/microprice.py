"""Stoikov's micro-price: the mid plus the expected mid move g(imbalance, spread), from a
Markov chain of book states estimated on the past events of the series.

A book state is (spread in ticks, imbalance bucket), with imbalance bid_size /
(bid_size + ask_size) cut into equal-width buckets. Between consecutive events the chain
either keeps the mid (transition counts Q) or moves it by ±½ or ±1 tick (counts R1 by
move, R2 by the state it lands in); larger moves and events outside 1..spread_ticks are
left out. Every transition is also counted mirrored (imbalance flipped, move negated),
as in the paper, so that g is antisymmetric. Every ``refit`` transitions:

    g1 = (I - Q)⁻¹ R1 K,   B = (I - Q)⁻¹ R2,   g = g1 + B g1 + B² g1 + ...

(Stoikov 2018, "The Micro-Price", Quantitative Finance 18(12)). Until the first fit, and
for states never seen, the output is null.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.microstructure import quote_mid
from cift.features.kernels.ops import NAN

MOVES = 4  # mid moves of -1, -½, +½, +1 tick
MAX_TERMS = 1000
HEADER = 4  # previous state, previous mid, transitions, fitted


def microprice_state(params: np.ndarray) -> int:
    """Header, Q and R2 (N x N), R1 (N x 4) and g (N), for N = buckets · spread_ticks."""
    states = int(params[1]) * int(params[2])
    return HEADER + states * (2 * states + MOVES + 1)


@njit(inline="always")
def book_state(
    bid: float,
    ask: float,
    bid_size: float,
    ask_size: float,
    tick: float,
    buckets: int,
    spreads: int,
) -> int:
    """(spread ticks - 1)·buckets + imbalance bucket, or -1 outside the modelled states."""
    if math.isnan(quote_mid(bid, ask)) or not (bid_size >= 0.0 and ask_size >= 0.0):
        return -1
    depth = bid_size + ask_size
    if not depth > 0.0:
        return -1
    ticks = round((ask - bid) / tick)
    if ticks < 1 or ticks > spreads:
        return -1
    bucket = min(int(bid_size / depth * buckets), buckets - 1)
    return int(ticks - 1) * buckets + bucket


@njit(inline="always")
def mirrored(state: int, buckets: int) -> int:
    return (state // buckets) * buckets + buckets - 1 - state % buckets


@njit(inline="always")
def swap_in_pivot(a: np.ndarray, b: np.ndarray, col: int) -> bool:
    """Bring the row with the largest ``|a[row, col]|`` (row >= col) to ``col``; False
    when that column has no usable pivot."""
    best = col
    for row in range(col + 1, a.shape[0]):
        if abs(a[row, col]) > abs(a[best, col]):
            best = row
    if abs(a[best, col]) < 1e-12:
        return False
    if best != col:
        for k in range(a.shape[1]):
            a[col, k], a[best, k] = a[best, k], a[col, k]
        for k in range(b.shape[1]):
            b[col, k], b[best, k] = b[best, k], b[col, k]
    return True


@njit
def solve(a: np.ndarray, b: np.ndarray) -> bool:
    """Solve a·x = b in place (Gauss-Jordan, partial pivoting): b becomes x.
    False when ``a`` is singular."""
    n = a.shape[0]
    for col in range(n):
        if not swap_in_pivot(a, b, col):
            return False
        pivot = a[col, col]
        for row in range(n):
            if row == col or a[row, col] == 0.0:
                continue
            factor = a[row, col] / pivot
            for k in range(col, n):
                a[row, k] -= factor * a[col, k]
            for k in range(b.shape[1]):
                b[row, k] -= factor * b[col, k]
    for row in range(n):
        for k in range(b.shape[1]):
            b[row, k] /= a[row, row]
    return True


@njit
def chain(
    q: np.ndarray, r2: np.ndarray, r1: np.ndarray, tick: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """I - Q, [R1·K | R2] (probabilities from the counts) and which states were seen."""
    n = q.shape[0]
    a = np.eye(n)
    rhs = np.zeros((n, 1 + n))
    seen = np.zeros(n, dtype=np.bool_)
    for x in range(n):
        total = q[x].sum() + r1[x].sum()
        if total == 0.0:
            continue
        seen[x] = True
        for y in range(n):
            a[x, y] -= q[x, y] / total
            rhs[x, 1 + y] = r2[x, y] / total
        for m in range(MOVES):
            rhs[x, 0] += r1[x, m] / total * (m - 2 + (m >= 2)) * 0.5 * tick
    return a, rhs, seen


@njit(inline="always")
def times(b: np.ndarray, v: np.ndarray) -> np.ndarray:
    """b·v without BLAS (the same sums in the same order everywhere)."""
    result = np.zeros(v.shape[0])
    for x in range(b.shape[0]):
        for y in range(b.shape[1]):
            result[x] += b[x, y] * v[y]
    return result


@njit
def fit(q: np.ndarray, r2: np.ndarray, r1: np.ndarray, tick: float, g: np.ndarray) -> bool:
    """Estimate g from the transition counts into ``g`` (left as is when singular)."""
    a, rhs, seen = chain(q, r2, r1, tick)
    if not solve(a, rhs):
        return False
    n = q.shape[0]
    b = rhs[:, 1:]
    total = rhs[:, 0].copy()
    term = rhs[:, 0].copy()
    for _ in range(MAX_TERMS):
        term = times(b, term)
        total += term
        if np.abs(term).max() <= 1e-12 * tick:
            break
    for x in range(n):
        g[x] = total[x] if seen[x] else NAN
    return True


@njit
def microprice_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """params: tick, imbalance buckets, spread ticks, refit (transitions between fits)."""
    tick, buckets, spreads, refit = params[0], int(params[1]), int(params[2]), int(params[3])
    bid, ask, bid_size, ask_size = inputs[0], inputs[1], inputs[2], inputs[3]
    n = buckets * spreads
    q_at = HEADER
    r2_at = q_at + n * n
    r1_at = r2_at + n * n
    g_at = r1_at + n * MOVES
    q = s[q_at:r2_at].reshape((n, n))
    r2 = s[r2_at:r1_at].reshape((n, n))
    r1 = s[r1_at:g_at].reshape((n, MOVES))
    g = s[g_at : g_at + n]
    before, previous_mid, transitions, fitted = int(s[0]) - 1, float(s[1]), int(s[2]), s[3]
    for i in range(bid.shape[0]):
        now = book_state(bid[i], ask[i], bid_size[i], ask_size[i], tick, buckets, spreads)
        mid = quote_mid(bid[i], ask[i])
        if now >= 0 and before >= 0:
            half_ticks = round((mid - previous_mid) / tick * 2.0)
            if abs(half_ticks) <= 2:
                back, there = mirrored(before, buckets), mirrored(now, buckets)
                if half_ticks == 0:
                    q[before, now] += 1.0
                    q[back, there] += 1.0
                else:
                    move = int(half_ticks) + 2 - (half_ticks > 0)
                    r1[before, move] += 1.0
                    r1[back, MOVES - 1 - move] += 1.0
                    r2[before, now] += 1.0
                    r2[back, there] += 1.0
                transitions += 1
                if transitions % refit == 0 and fit(q, r2, r1, tick, g):
                    fitted = 1.0
        out[0, i] = mid + g[now] if now >= 0 and fitted != 0 else NAN
        before, previous_mid = now, mid
    s[0], s[1], s[2], s[3] = before + 1, previous_mid, transitions, fitted
