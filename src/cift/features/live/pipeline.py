"""Every live stage in one process: the feed, the stores of its kinds, the bars and the
features, each in its own thread over one bus.

Stopping is ordered so nothing is left behind: the feed stops first, then the stages in
waves, each stage once it has read everything its upstream published (the bars stage
making the bars of the last open windows), so the store ends with every event, bar and
value. The stages of a wave read only what earlier waves wrote, so they drain together.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cift.core.errors import CiftError
from cift.data.bus import EventBus
from cift.data.providers.live import LiveFeed
from cift.data.store.base import MarketStore
from cift.data.stream.bars_stage import bars_stage
from cift.data.stream.board import Board
from cift.data.stream.ingest_stage import ingest
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import StageStats, StageStop
from cift.data.stream.store_stage import store_stage
from cift.features.live.stage import features_stage
from cift.features.pipeline import FeatureSet
from cift.model import DataKind, Timeframe

DRAIN_SECONDS = 120.0
BARS = DataKind.BARS.value


@dataclass(frozen=True)
class Downstream:
    """A consumer run with the stages: ``target(stop=..., on_progress=..., bus=...,
    metrics=..., **options)`` returning its stats. ``reads``: its topic, the bars or one
    the bars' consumers write (it then stops after them)."""

    name: str
    target: Callable[..., StageStats]
    options: dict[str, Any]
    reads: str = BARS


Progress = Callable[[str, StageStats], None]


@dataclass
class _Stage:
    name: str
    target: Callable[..., StageStats]
    options: dict[str, Any]
    stop: StageStop = field(default_factory=StageStop)
    stats: StageStats = field(default_factory=StageStats)
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self, on_progress: Progress | None) -> None:
        def report(stats: StageStats) -> None:
            self.stats = stats
            if on_progress is not None:
                on_progress(self.name, stats)

        def run() -> None:
            try:
                self.stats = self.target(stop=self.stop, on_progress=report, **self.options)
            except BaseException as exc:  # handed to the main thread, raised there
                self.error = exc

        self.thread = threading.Thread(target=run, name=f"stage-{self.name}", daemon=True)
        self.thread.start()

    def join(self, until: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(None if until is None else max(0.0, until - time.monotonic()))


def run_all(
    bus: EventBus,
    board: Board,
    feed: LiveFeed,
    store: MarketStore,
    symbols: Sequence[str],
    kinds: Sequence[DataKind],
    timeframe: Timeframe,
    feature_set: FeatureSet,
    stop: threading.Event,
    *,
    measured: bool = False,
    on_progress: Progress | None = None,
    downstream: Sequence[Downstream] = (),
) -> dict[str, StageStats]:
    """Run until ``stop`` is set (or the feed ends), then drain and stop in order;
    ``downstream`` consumers of the bars (a live runner) stop last. ``measured``: each
    stage counts on the metrics under its own name."""

    def staged(name: str, target: Callable[..., StageStats], **options: Any) -> _Stage:
        metrics = StageMetrics(name) if measured else None
        return _Stage(name, target, {"bus": bus, "metrics": metrics} | options)

    feed_readers = [
        *(staged(f"store-{kind.value}", store_stage, store=store, kind=kind) for kind in kinds),
        staged("bars", bars_stage, store=store, timeframe=timeframe, final=True),
    ]
    bar_readers = [
        staged("features", features_stage, store=store, board=board, feature_set=feature_set),
        *(staged(d.name, d.target, **d.options) for d in downstream if d.reads == BARS),
    ]
    later = [staged(d.name, d.target, **d.options) for d in downstream if d.reads != BARS]
    waves = [feed_readers, bar_readers, later]
    stages = [stage for wave in waves for stage in wave]
    for stage in stages:
        stage.start(on_progress)
    fed = StageStats()

    def report(stats: StageStats) -> None:
        if on_progress is not None:
            on_progress("ingest", stats)

    try:
        fed = asyncio.run(
            ingest(
                feed,
                bus,
                symbols,
                kinds,
                stop,
                metrics=StageMetrics("ingest") if measured else None,
                on_progress=report,
            )
        )
    finally:
        _finish(waves)
    return {"ingest": fed, **{s.name: s.stats for s in stages}}


def _finish(waves: list[list[_Stage]]) -> None:
    """Stop the stages wave by wave, each wave once all of it has drained what the waves
    before it published (the feed's topics, then the bars, then what the bars' consumers
    wrote); a stage still reading after ``DRAIN_SECONDS`` is stopped."""
    for wave in waves:
        deadline = time.monotonic() + DRAIN_SECONDS
        for stage in wave:
            stage.stop.drain()
        for stage in wave:
            stage.join(until=deadline)
        for stage in wave:
            stage.stop.set()
            stage.join()
    for stage in (stage for wave in waves for stage in wave):
        if stage.error is not None:
            if isinstance(stage.error, CiftError):
                raise stage.error
            raise RuntimeError(f"The {stage.name} stage failed: {stage.error}") from stage.error
