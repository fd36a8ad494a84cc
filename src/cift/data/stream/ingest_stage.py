"""The ingest stage: a live feed onto the bus, micro-batched.

Events are gathered per kind and published every ``flush_seconds`` (or sooner once
``max_rows`` are held), so a busy feed costs one bus message per kind per interval, not
one per event. Stopping publishes what is held first.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence

import polars as pl
from loguru import logger

from cift.core.errors import UpstreamError
from cift.data.bus import EventBus
from cift.data.providers.live import LiveFeed
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import StageStats, newest_ns
from cift.model import DataKind
from cift.model.symbols import canonical_symbols


class _Held:
    """Frames per kind waiting to be published."""

    def __init__(self) -> None:
        self.frames: dict[DataKind, list[pl.DataFrame]] = {}
        self.rows = 0

    def add(self, kind: DataKind, frame: pl.DataFrame) -> None:
        """Hold ``frame``, its symbols in their canonical spelling (as the store has them)."""
        canonical = frame.with_columns(canonical_symbols(frame.get_column("symbol")))
        self.frames.setdefault(kind, []).append(canonical)
        self.rows += frame.height

    def put_back(self, taken: list[tuple[DataKind, pl.DataFrame]]) -> None:
        """Return unpublished frames ahead of any gathered since (order kept)."""
        for kind, frame in reversed(taken):
            self.frames.setdefault(kind, []).insert(0, frame)
            self.rows += frame.height

    def take(self) -> list[tuple[DataKind, pl.DataFrame]]:
        taken = [(k, pl.concat(f, how="vertical_relaxed")) for k, f in self.frames.items() if f]
        self.frames, self.rows = {}, 0
        return taken


async def ingest(
    feed: LiveFeed,
    bus: EventBus,
    symbols: Sequence[str],
    kinds: Sequence[DataKind],
    stop: threading.Event,
    *,
    flush_seconds: float = 0.1,
    max_rows: int = 100_000,
    metrics: StageMetrics | None = None,
    on_progress: Callable[[StageStats], None] | None = None,
) -> StageStats:
    """Publish ``feed``'s events of ``kinds`` for ``symbols`` until ``stop`` is set or
    the feed ends; a refused key or plan raises (after publishing what is held)."""
    stats, held = StageStats(), _Held()
    lock = asyncio.Lock()
    if metrics is not None:  # each series from the start: a feed that never delivers shows 0
        for kind in kinds:
            metrics.feed_rows.labels(metrics.stage, feed.name, kind.value)

    async def publish() -> None:
        async with lock:
            taken = held.take()
            for index, (kind, frame) in enumerate(taken):
                try:
                    await asyncio.to_thread(bus.publish, kind.value, frame)
                except UpstreamError as exc:  # the bus is down: keep them for the next try
                    held.put_back(taken[index:])
                    stats.bus_errors += 1
                    stats.last_error = exc.message
                    logger.warning("publishing failed ({}); trying again", exc.message)
                    return
                stats.batches += 1
                stats.rows_stored += frame.height
                if metrics is not None:
                    metrics.rows_out.labels(metrics.stage, kind.value).inc(frame.height)
                    metrics.batches.labels(metrics.stage, kind.value).inc()

    async def pump() -> None:
        async for kind, frame in feed.events(symbols, kinds):
            held.add(kind, frame)
            stats.rows_received += frame.height
            newest = newest_ns(frame)
            if newest is not None and (stats.last_event_ns is None or newest > stats.last_event_ns):
                stats.last_event_ns = newest
            if metrics is not None:
                metrics.feed_rows.labels(metrics.stage, feed.name, kind.value).inc(frame.height)
            if held.rows >= max_rows:
                await publish()

    task = asyncio.create_task(pump())
    counted = (0, 0)
    try:
        while not stop.is_set() and not task.done():
            await asyncio.wait({task}, timeout=flush_seconds)
            await publish()
            counted = _count_feed(feed, metrics, counted)
            if on_progress is not None:
                on_progress(stats)
    finally:
        task.cancel()
        await publish()
        feed.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # raises what ended the feed, e.g. a refused key
    return stats


def _count_feed(
    feed: LiveFeed, metrics: StageMetrics | None, counted: tuple[int, int]
) -> tuple[int, int]:
    """Bring the reconnect and gap counters up to the feed's own."""
    now = (feed.counters.reconnects, feed.counters.gap_rows)
    if metrics is not None:
        metrics.reconnects.labels(metrics.stage, feed.name).inc(now[0] - counted[0])
        metrics.gap_rows.labels(metrics.stage, feed.name).inc(now[1] - counted[1])
    return now
