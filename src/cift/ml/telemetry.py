"""Prometheus metrics of model training (``ml.metrics`` is about predictions)."""

from __future__ import annotations

from cift.core.metrics import RUN_BUCKETS, counter, histogram

TRAINING_RUNS = counter(
    "ml", "training", "runs", "Training runs that ended, by outcome (done, failed).",
    ("outcome",),
)  # fmt: skip
TRAINING_DURATION = histogram(
    "ml", "training_duration", "seconds",
    "Time of one training run: dataset, cross-validation, final fit and logging.",
    buckets=RUN_BUCKETS,
)  # fmt: skip
