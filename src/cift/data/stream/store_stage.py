"""The store stage: batches from the bus into the market-data store, micro-batched.

A poll's batches are written in one store write and acknowledged only after it returns,
so a crash at any instant loses nothing (what was not acknowledged is delivered again)
and stores nothing twice (the store skips keys it holds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from cift.data.bus import EventBus
from cift.data.store.base import MarketStore
from cift.data.stream.metrics import StageMetrics
from cift.model import DataKind, Timeframe

STORE_GROUP = "store"


@dataclass
class StageStats:
    """What a stage has done so far."""

    batches: int = 0
    rows_received: int = 0
    rows_stored: int = 0
    last_event_ns: int | None = None
    lag: int = 0
    latency_ms: float = 0.0
    """How long the last batch took from publish to durable."""


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
    stats = StageStats()
    reader = bus.subscribe(kind.value, group, consumer)
    try:
        while not stop.is_set():
            deliveries = reader.poll(max_batches=max_batches, timeout=0.5)
            if deliveries:
                frame = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
                written = store.write(kind, frame, timeframe=timeframe)
                reader.ack(deliveries)
                stats.batches += len(deliveries)
                stats.rows_received += frame.height
                stats.rows_stored += written.rows_written
                (newest,) = frame.select(pl.col("ts").dt.epoch("ns").max()).row(0)
                stats.last_event_ns = newest
                oldest = min(d.published_ns for d in deliveries)
                stats.latency_ms = (time.time_ns() - oldest) / 1e6
                if metrics is not None:
                    _count(metrics, kind, len(deliveries), frame.height, written.rows_written)
                    for delivery in deliveries:
                        seconds = (time.time_ns() - delivery.published_ns) / 1e9
                        metrics.latency.labels(metrics.stage, kind.value).observe(seconds)
            stats.lag = reader.lag()
            if metrics is not None:
                metrics.lag.labels(metrics.stage, kind.value).set(stats.lag)
            if on_progress is not None:
                on_progress(stats)
    finally:
        reader.close()
    return stats


def _count(metrics: StageMetrics, kind: DataKind, batches: int, rows: int, new: int) -> None:
    labels = (metrics.stage, kind.value)
    metrics.batches.labels(*labels).inc(batches)
    metrics.rows_in.labels(*labels).inc(rows)
    metrics.rows_out.labels(*labels).inc(new)
