"""Kernels of the least-squares line through the last n values (TA-Lib's LINEARREG family).

As in TA-Lib 0.8, the sums slide in O(1) per row and are recomputed from the window
every 32·n rows, which bounds their rounding drift; with TA-Lib's order of operations the
outputs equal TA-Lib's bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from cift.core.jit import njit
from cift.features.kernels.ops import NAN, ring_push, window_size

# What the kernel writes: the fitted value at the newest bar, the slope, the fitted value
# at the oldest bar, the slope's angle in degrees, the value forecast one bar ahead.
VALUE, SLOPE, INTERCEPT, ANGLE, FORECAST = 0, 1, 2, 3, 4
DEGREES = 180.0 / 3.14159265358979323846
# The window is summed afresh every RESUM·n rows, as in TA-Lib 0.8.
RESUM = 32


@njit(inline="always")
def regression(inputs: np.ndarray, n: int, what: int, s: np.ndarray, out: np.ndarray) -> None:
    x = inputs[0]
    sum_x = n * (n - 1) * 0.5
    sum_x2 = n * (n - 1) * (2.0 * n - 1) / 6.0
    divisor = sum_x * sum_x - n * sum_x2
    buf = s[4 : 4 + n]
    count, pos, sum_y, sum_xy = float(s[0]), int(s[1]), float(s[2]), float(s[3])
    for i in range(x.shape[0]):
        count, pos, leaving = ring_push(buf, n, count, pos, x[i])
        if count < n:
            out[0, i] = NAN
            continue
        if int(count - n) % (RESUM * n) == 0:  # sum the window, oldest first (weight n-1..0)
            sum_y, sum_xy, slot = 0.0, 0.0, pos
            for age in range(n - 1, -1, -1):
                sum_y += buf[slot]
                sum_xy += age * buf[slot]
                slot = slot + 1 if slot + 1 < n else 0
        else:  # every kept value ages by one bar; the leaving one had weight n
            sum_xy = sum_xy + sum_y - n * leaving
            sum_y = sum_y - leaving + x[i]
        m = (n * sum_xy - sum_x * sum_y) / divisor
        if what == SLOPE:
            out[0, i] = m
        elif what == ANGLE:
            out[0, i] = math.atan(m) * DEGREES
        else:
            b = (sum_y - m * sum_x) / n
            if what == INTERCEPT:
                out[0, i] = b
            elif what == VALUE:
                out[0, i] = b + m * (n - 1)
            else:
                out[0, i] = b + m * n
    s[0], s[1], s[2], s[3] = count, pos, sum_y, sum_xy


@njit
def linearreg_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    regression(inputs, int(params[0]), VALUE, s, out)


@njit
def linearreg_slope_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    regression(inputs, int(params[0]), SLOPE, s, out)


@njit
def linearreg_intercept_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    regression(inputs, int(params[0]), INTERCEPT, s, out)


@njit
def linearreg_angle_kernel(
    inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray
) -> None:
    regression(inputs, int(params[0]), ANGLE, s, out)


@njit
def tsf_kernel(inputs: np.ndarray, params: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    regression(inputs, int(params[0]), FORECAST, s, out)


def regression_state(params: np.ndarray) -> int:
    return 2 + int(window_size(int(params[0])))
