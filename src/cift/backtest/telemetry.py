"""Prometheus metrics of backtests and sweeps (``backtest.metrics`` is about returns)."""

from __future__ import annotations

from cift.core.metrics import RUN_BUCKETS, counter, histogram

RUNS = counter(
    "backtest", "", "runs", "Recorded backtest runs that ended, by outcome (done, failed).",
    ("outcome",),
)  # fmt: skip
BARS = counter(
    "backtest", "", "bars", "Market events (bars, or ticks and quotes) the engine replayed."
)
DURATION = histogram(
    "backtest", "duration", "seconds", "Time of one engine run, from first to last event.",
    buckets=RUN_BUCKETS,
)  # fmt: skip
SWEEP_TRIALS = counter(
    "sweep", "", "trials", "Parameter combinations a sweep (or a walk-forward, over its "
    "windows) evaluated, by outcome (done, skipped).", ("outcome",),
)  # fmt: skip
SWEEP_DURATION = histogram(
    "sweep", "duration", "seconds", "Time of one whole sweep.", buckets=RUN_BUCKETS
)


def count_trials(done: int, skipped: int) -> None:
    """Count a search's evaluated and skipped combinations (a sweep's, or a walk-forward's
    over all its windows)."""
    SWEEP_TRIALS.labels("done").inc(done)
    SWEEP_TRIALS.labels("skipped").inc(skipped)
