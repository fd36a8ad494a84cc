"""The store stage: batches from the bus into the market-data store, micro-batched.

A poll's batches are written in one store write and acknowledged only after it returns,
so a crash at any instant loses nothing (what was not acknowledged is delivered again)
and stores nothing twice (the store skips keys it holds).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import polars as pl

from cift.data.bus import Delivery, EventBus
from cift.data.store.base import MarketStore
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import Outcome, StageStats, consume
from cift.model import DataKind, Timeframe

STORE_GROUP = "store"


def store_stage(
    bus: EventBus,
    store: MarketStore,
    kind: DataKind,
    stop: threading.Event,
    *,
    group: str = STORE_GROUP,
    consumer: str = "store-1",
    max_batches: int = 200,
    timeframe: Timeframe | None = None,
    metrics: StageMetrics | None = None,
    on_progress: Callable[[StageStats], None] | None = None,
) -> StageStats:
    """Store ``kind`` batches (bars of ``timeframe``) of the topic of the same name until
    ``stop`` is set; what it holds when stopped is written and acknowledged first."""

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        if not deliveries:
            return Outcome(0, ())
        frame = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
        written = store.write(kind, frame, timeframe=timeframe)
        return Outcome(written.rows_written, deliveries)

    return consume(
        bus,
        kind.value,
        group,
        consumer,
        work,
        stop,
        max_batches=max_batches,
        metrics=metrics,
        on_progress=on_progress,
    )
