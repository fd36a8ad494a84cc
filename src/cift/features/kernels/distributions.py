"""Distribution functions for compiled kernels: the normal and Student-t CDFs.

The t CDF goes through the regularised incomplete beta function, evaluated by its
continued fraction (modified Lentz), so any positive degrees of freedom work.
"""

from __future__ import annotations

import math

from cift.core.jit import njit

SQRT_HALF = 0.7071067811865476


@njit(inline="always")
def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x * SQRT_HALF)


@njit
def beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 20_000):
        for numerator in (
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return h


@njit
def incomplete_beta(a: float, b: float, x: float, y: float) -> float:
    """Regularised incomplete beta I_x(a, b), given x and y = 1 - x exactly."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * beta_fraction(a, b, x) / a
    return 1.0 - front * beta_fraction(b, a, y) / b


@njit
def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    square = t * t
    tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + square), square / (df + square))
    return 1.0 - tail if t > 0.0 else tail
