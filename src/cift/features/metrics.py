"""Prometheus metrics of feature computation (batch and live)."""

from __future__ import annotations

from cift.core.metrics import counter, histogram

COMPUTE_DURATION = histogram(
    "features", "compute_duration", "seconds",
    "Time to compute one frame's features (all symbols of a batch).",
)  # fmt: skip
COMPUTED = counter("features", "computed", "rows", "Rows whose features were computed.")
