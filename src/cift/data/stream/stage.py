"""The loop every consuming stage shares: poll a topic as a group, hand the batches to
the stage's work, acknowledge what the work says is durable, and keep score."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from loguru import logger

from cift.core.errors import UpstreamError
from cift.core.timeutil import from_ns
from cift.core.tracing import consuming
from cift.data.bus import Delivery, EventBus
from cift.data.stream.metrics import StageMetrics

LATENCY_WINDOW = 10_000
LAG_EVERY_SECONDS = 1.0
BUS_RETRY_CAP_SECONDS = 10.0


@dataclass
class StageStats:
    """What a stage has done so far."""

    batches: int = 0
    rows_received: int = 0
    rows_stored: int = 0
    """Rows the stage wrote or published (new ones only, for a store)."""
    last_event_ns: int | None = None
    lag: int = 0
    latency_ms: float = 0.0
    """How long the last batch took from publish to done."""
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    """Publish-to-done times of the most recent batches."""
    bus_errors: int = 0
    """Times the bus failed (a broker or Redis down); the stage waits and goes on."""
    bus_failures: int = 0
    """Failures in a row, for the back-off."""
    last_error: str | None = None
    polls: int = 0
    empty_polls: int = 0
    """Polls in a row that found nothing: the stage has read all that was published."""

    def latency_quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0-1) of the recent publish-to-done times, in ms."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def report(self, seconds: float) -> dict[str, Any]:
        """The figures as the stream board keeps them (``cift stream status``, the API),
        the rate over ``seconds`` of running."""
        return {
            "rows_in": self.rows_received,
            "rows_out": self.rows_stored,
            "batches": self.batches,
            "rate": self.rows_received / max(seconds, 1e-9),
            "lag": self.lag,
            "last_event": None
            if self.last_event_ns is None
            else from_ns(self.last_event_ns).isoformat(timespec="seconds"),
            "latency_ms": round(self.latency_ms, 3),
            "latency_p99_ms": self.latency_quantile(0.99),
            "pid": os.getpid(),
        }


class StageStop(threading.Event):
    """When a consuming stage stops: ``set()``, after the poll under way; or ``drain()``,
    once a poll begun after the call finds nothing (everything published before it is
    read), which is how the stages of one process stop behind their upstream."""

    def __init__(self) -> None:
        super().__init__()
        self._drain_from: float | None = None

    def drain(self) -> None:
        self._drain_from = time.monotonic()

    def drained(self, poll_began: float, found: int) -> bool:
        """Whether a poll begun at ``poll_began`` that found ``found`` batches ends it."""
        return found == 0 and self._drain_from is not None and poll_began >= self._drain_from


@dataclass(frozen=True)
class Outcome:
    """What the work did with a poll's batches."""

    rows_out: int
    done: Sequence[Delivery]
    """The batches it is durably finished with (acknowledged now; the rest stay held)."""


Work = Callable[[Sequence[Delivery]], Outcome]
"""A stage's work on the batches of one poll (possibly none, e.g. at a timeout)."""


def newest_ns(frame: pl.DataFrame) -> int | None:
    """The newest ``ts`` of a frame, in ns since the epoch."""
    if frame.is_empty():
        return None
    value: int = frame.select(pl.col("ts").dt.epoch("ns").max()).item()
    return value


def symbol_values(values: dict[str, int], column: str) -> pl.DataFrame:
    """A per-symbol mapping as a frame (``symbol``, ``column``), to join on."""
    return pl.DataFrame(
        {"symbol": list(values), column: list(values.values())},
        schema={"symbol": pl.String(), column: pl.Int64()},
    )


def consume(
    bus: EventBus,
    topic: str,
    group: str,
    consumer: str,
    work: Work,
    stop: threading.Event,
    *,
    max_batches: int = 200,
    metrics: StageMetrics | None = None,
    on_progress: Callable[[StageStats], None] | None = None,
    on_stop: Callable[[], Outcome] | None = None,
) -> StageStats:
    """Run ``work`` on ``topic`` until ``stop`` is set (or, a :class:`StageStop`, has
    drained), then ``on_stop`` (a flush)."""
    stats = StageStats()
    reader = bus.subscribe(topic, group, consumer)
    measured = 0.0
    unacked: list[Delivery] = []
    try:
        while not stop.is_set():
            try:
                if unacked:
                    reader.ack(unacked)
                    unacked = []
                began = time.monotonic()
                deliveries = reader.poll(max_batches=max_batches, timeout=0.5)
                stats.bus_failures = 0
            except UpstreamError as exc:
                _bus_down(stats, topic, exc, stop)
                continue
            outcome = _traced(work, deliveries, topic, group)
            try:
                reader.ack(outcome.done)
            except UpstreamError as exc:
                unacked = list(outcome.done)  # done and durable: acknowledged once back
                _bus_down(stats, topic, exc, stop)
            _score(stats, metrics, topic, deliveries, outcome)
            if time.monotonic() - measured >= LAG_EVERY_SECONDS or not deliveries:
                measured = time.monotonic()
                with contextlib.suppress(UpstreamError):  # the next poll reports it
                    stats.lag = reader.lag()  # a round trip to the broker: not every poll
                if metrics is not None:
                    metrics.lag.labels(metrics.stage, topic).set(stats.lag)
            if on_progress is not None:
                on_progress(stats)
            if isinstance(stop, StageStop) and stop.drained(began, len(deliveries)):
                break
        if on_stop is not None:
            outcome = on_stop()
            reader.ack([*unacked, *outcome.done])
            stats.rows_stored += outcome.rows_out
            stats.lag = reader.lag()
    finally:
        reader.close()
    return stats


def _traced(work: Work, deliveries: Sequence[Delivery], topic: str, group: str) -> Outcome:
    """The work on a poll's batches, as a consumer span continuing their publishers'
    traces (an empty poll is not traced)."""
    if not deliveries:
        return work(deliveries)
    attributes = {
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.batch.message_count": len(deliveries),
    }
    with consuming(f"process {topic}", [d.trace for d in deliveries], attributes):
        return work(deliveries)


def _bus_down(stats: StageStats, topic: str, exc: UpstreamError, stop: threading.Event) -> None:
    """Wait before trying the bus again while it stays down."""
    stats.bus_errors += 1
    stats.last_error = exc.message
    _wait_for_bus(topic, exc, stats.bus_failures, stop)
    stats.bus_failures += 1


def _wait_for_bus(topic: str, exc: UpstreamError, failures: int, stop: threading.Event) -> None:
    """0.5 s doubling to 10 s over ``failures`` in a row."""
    wait = min(BUS_RETRY_CAP_SECONDS, 0.5 * 2**failures)
    logger.warning("the bus failed on {} ({}); trying again in {:.1f} s", topic, exc.message, wait)
    stop.wait(wait)


def publish_waiting(bus: EventBus, topic: str, frame: pl.DataFrame, stop: threading.Event) -> None:
    """Publish ``frame`` from a stage's work, waiting out a bus that is down as a poll
    does, so that a restarted Redis or broker does not end the stage; a stage stopped
    meanwhile raises the failure instead (its batches stay unacknowledged)."""
    failures = 0
    while True:
        try:
            bus.publish(topic, frame)
            return
        except UpstreamError as exc:
            if stop.is_set():
                raise
            _wait_for_bus(topic, exc, failures, stop)
            failures += 1


def _score(
    stats: StageStats,
    metrics: StageMetrics | None,
    topic: str,
    deliveries: Sequence[Delivery],
    outcome: Outcome,
) -> None:
    rows = sum(d.frame.height for d in deliveries)
    stats.batches += len(deliveries)
    stats.polls += 1
    stats.empty_polls = 0 if deliveries else stats.empty_polls + 1
    stats.rows_received += rows
    stats.rows_stored += outcome.rows_out
    now = time.time_ns()
    for delivery in deliveries:
        newest = newest_ns(delivery.frame)
        if newest is not None and (stats.last_event_ns is None or newest > stats.last_event_ns):
            stats.last_event_ns = newest
    if outcome.done:
        stats.latency_ms = (now - min(d.published_ns for d in outcome.done)) / 1e6
        stats.latencies_ms.extend((now - d.published_ns) / 1e6 for d in outcome.done)
    if metrics is None:
        return
    labels = (metrics.stage, topic)
    metrics.batches.labels(*labels).inc(len(deliveries))
    metrics.rows_in.labels(*labels).inc(rows)
    metrics.rows_out.labels(*labels).inc(outcome.rows_out)
    for delivery in outcome.done:
        metrics.latency.labels(*labels).observe((now - delivery.published_ns) / 1e9)
