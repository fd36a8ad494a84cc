"""Series transforms: fixed-width-window fractional differentiation (AFML ch. 5)."""

from __future__ import annotations

import numpy as np

from cift.features.kernels import transforms as tf
from cift.features.spec import Param, define


def _window_fits(params: np.ndarray) -> str | None:
    width = int(tf.ffd_width(float(params[0]), float(params[1])))
    if width > tf.MAX_WIDTH:
        return (
            f"d={params[0]:g} with threshold={params[1]:g} needs more than {tf.MAX_WIDTH:,} "
            "weights; raise the threshold (1e-4 or 1e-5 is usual)"
        )
    return None


define(
    "transform",
    "ffd",
    tf.ffd_kernel,
    tf.ffd_state,
    (
        Param("d", 0.4, integer=False, minimum=0.0, maximum=2.0, description="order"),
        Param(
            "threshold",
            1e-4,
            integer=False,
            minimum=1e-12,
            maximum=1.0,
            description="smallest |weight| kept",
        ),
    ),
    "Fractional differentiation with a fixed-width window: sum of w_k·x[t-k] over "
    "the weights w_k = -w_{k-1}(d-k+1)/k with |w_k| >= threshold; null until the "
    "window is full (d=0.4, threshold=1e-4 keeps 282 weights).",
    inputs=("close",),
    check=_window_fits,
)
