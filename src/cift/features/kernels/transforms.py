"""Kernels of series transforms: fixed-width-window fractional differentiation (FFD)."""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit

NAN = np.nan
MAX_WIDTH = 100_000
"""The widest FFD window offered (weights kept); a smaller threshold would need more."""


@njit
def ffd_width(d: float, threshold: float) -> int:
    """How many weights ``w_0..w_K`` are at least ``threshold`` in absolute value
    (``MAX_WIDTH + 1`` if more than ``MAX_WIDTH`` would be)."""
    weight = 1.0
    k = 1
    while k <= MAX_WIDTH:
        weight = -weight * (d - k + 1) / k
        if abs(weight) < threshold:
            return k
        k += 1
    return MAX_WIDTH + 1


@njit
def ffd_weights(d: float, threshold: float) -> np.ndarray:
    """``w_0 = 1``, ``w_k = -w_{k-1}·(d - k + 1)/k``, kept while ``|w_k| >= threshold``
    (AFML snippet 5.3); ``w[k]`` multiplies the value ``k`` steps back."""
    width = ffd_width(d, threshold)
    weights = np.empty(width)
    weights[0] = 1.0
    for k in range(1, width):
        weights[k] = -weights[k - 1] * (d - k + 1) / k
    return weights


@njit(inline="always")
def window_dot(weights: np.ndarray, values: np.ndarray, newest: int) -> float:
    """``sum_k weights[k]·values[newest - k]`` in four interleaved partial sums (a fixed
    order, so every caller gets the same bits, without one long chain of additions)."""
    width = weights.shape[0]
    a0 = a1 = a2 = a3 = 0.0
    k = 0
    while k + 3 < width:
        a0 += weights[k] * values[newest - k]
        a1 += weights[k + 1] * values[newest - k - 1]
        a2 += weights[k + 2] * values[newest - k - 2]
        a3 += weights[k + 3] * values[newest - k - 3]
        k += 4
    while k < width:
        a0 += weights[k] * values[newest - k]
        k += 1
    return (a0 + a1) + (a2 + a3)


@njit
def ffd_kernel(
    inputs: tuple[np.ndarray, ...], params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    """``sum_k w_k·x[t-k]`` over the fixed window, null until the window is full.

    As AFML's fracDiff_FFD: a missing value is forward-filled inside the window but its
    own output stays null; leading missing values are skipped.
    State: [values pushed, position, last value, ring of ``2·width`` values]; each value
    is written twice, ``width`` apart, so the window is always one contiguous run.
    """
    weights = ffd_weights(params[0], params[1])
    width = weights.shape[0]
    x = inputs[0]
    count, pos, last = s[0], int(s[1]), s[2]
    ring = s[3 : 3 + 2 * width]
    for i in range(x.shape[0]):
        out[0, i] = NAN
        value = x[i]
        missing = math.isnan(value)
        if missing:
            if count == 0:
                continue
            value = last
        ring[pos] = value
        ring[pos + width] = value
        newest = pos + width
        pos += 1
        if pos == width:
            pos = 0
        count += 1.0
        last = value
        if not missing and count >= width:
            out[0, i] = window_dot(weights, ring, newest)
    s[0], s[1], s[2] = count, pos, last


def ffd_state(params: np.ndarray) -> int:
    return 3 + 2 * int(ffd_width(float(params[0]), float(params[1])))
