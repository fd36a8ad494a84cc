"""Prometheus metrics of the live stages, served on ``--metrics-port`` by each ``cift
stream`` command (and by ``cift trade run``)."""

from __future__ import annotations

from cift.core.metrics import counter, gauge, histogram

BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_STAGE = ("stage", "topic")
_FEED = ("stage", "provider")

BATCHES = counter("stream", "", "batches", "Batches a stage has finished.", _STAGE)
RECEIVED = counter("stream", "received", "rows", "Rows a stage has received.", _STAGE)
WRITTEN = counter(
    "stream", "written", "rows",
    "Rows a stage has written or published (new ones only, for the store).", _STAGE,
)  # fmt: skip
PUBLISH_TO_DONE = histogram(
    "stream", "publish_to_done", "seconds",
    "Time from a batch's publishing to the stage being done with it.", _STAGE, BATCH_BUCKETS,
)  # fmt: skip
CONSUMER_LAG = gauge(
    "stream", "consumer_lag", "batches",
    "Batches published that the stage's consumer group has not acknowledged.", _STAGE,
    mode="max",
)  # fmt: skip
LATE = gauge(
    "stream", "late", "trades", "Trades dropped because their bar was already made.", _STAGE,
    mode="max",
)  # fmt: skip
RECONNECTS = counter(
    "stream", "", "reconnects", "Times the live feed reconnected after losing it.", _FEED
)
GAP_FILLED = counter(
    "stream", "gap_filled", "rows",
    "Rows fetched from the REST history to fill the gap of a reconnect.", _FEED,
)  # fmt: skip
FEED = counter(
    "stream", "feed", "rows", "Rows the live feed received (after dropping repeats), by kind.",
    (*_FEED, "kind"),
)  # fmt: skip


class StageMetrics:
    """The live-stage metrics as one stage reports them (its name is the ``stage``
    label)."""

    batches = BATCHES
    rows_in = RECEIVED
    rows_out = WRITTEN
    latency = PUBLISH_TO_DONE
    lag = CONSUMER_LAG
    late = LATE
    reconnects = RECONNECTS
    gap_rows = GAP_FILLED
    feed_rows = FEED

    def __init__(self, stage: str) -> None:
        self.stage = stage
