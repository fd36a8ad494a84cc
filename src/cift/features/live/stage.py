"""The features stage: live values of a feature set from the bus, stored, published
and kept as the latest per symbol.

It runs the set's own kernels (``FeatureSet.live()``), continuing each symbol's state
batch after batch, so a live value equals ``cift features compute`` over the same rows.
Values are published and kept as the latest at once; they are stored about once a
second, and the source batches acknowledged only then.
On start it rebuilds each symbol's state from the stored rows up to its newest stored
value and skips what it already computed, so a restart neither repeats nor resets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl

from cift.data.bus import Delivery, EventBus
from cift.data.store.base import MarketStore
from cift.data.stream.board import Board, unless_down
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import (
    Outcome,
    StageStats,
    consume,
    publish_waiting,
    symbol_values,
)
from cift.features.engine import LiveFeatures
from cift.features.pipeline import FeatureSet
from cift.model import KEY_COLUMNS, TS_DTYPE

FEATURES_TOPIC = "features"


def done_until(store: MarketStore, feature_set: FeatureSet) -> dict[str, int]:
    """The time (ns) of each symbol's newest stored value of the set."""
    sets = store.feature_sets()
    if sets.is_empty():
        return {}
    mine = sets.filter(pl.col("set_id") == feature_set.set_id)
    return dict(mine.select("symbol", pl.col("last").dt.epoch("ns")).iter_rows())


def warm(store: MarketStore, feature_set: FeatureSet, until: dict[str, int]) -> LiveFeatures:
    """Live features whose states have seen every stored source row up to ``until``."""
    live = feature_set.live()
    for symbol, last in until.items():
        rows = store.read(
            feature_set.kind, symbols=[symbol], timeframe=feature_set.timeframe
        ).filter(pl.col("ts").dt.epoch("ns") <= last)
        live.update_frame(rows.collect())
    return live


class LiveValues:
    """A feature set's values for each new source row, continuing from the past."""

    def __init__(self, feature_set: FeatureSet, live: LiveFeatures, until: dict[str, int]):
        self.feature_set = feature_set
        self.live = live
        self.until = dict(until)
        self.keys = list(KEY_COLUMNS[feature_set.kind])

    def add(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``symbol, ts`` and the set's columns for the rows not computed before."""
        until = symbol_values(self.until, "_until")
        fresh = (
            rows.with_columns(pl.col("ts").cast(TS_DTYPE))
            .unique(self.keys, keep="first", maintain_order=True)
            .join(until, on="symbol", how="left")
            .filter(pl.col("_until").is_null() | (pl.col("ts").dt.epoch("ns") > pl.col("_until")))
            .drop("_until")
            .sort(self.keys)
        )
        values = self.live.update_frame(fresh).select("symbol", "ts", *self.feature_set.columns)
        newest = values.group_by("symbol").agg(pl.col("ts").dt.epoch("ns").max())
        self.until.update(dict(newest.iter_rows()))
        return values


class _Keeper:
    """Stores computed values in a thread of its own, about every ``every`` seconds, so
    live values never wait for the store; hands back the batches whose values are
    stored, to be acknowledged (a failed write raises in the stage's thread)."""

    def __init__(self, store: MarketStore, set_id: str, every: float) -> None:
        self.store, self.set_id, self.every = store, set_id, every
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="features-store")
        self._writing: Future[list[Delivery]] | None = None
        self._held: list[Delivery] = []
        self._values: list[pl.DataFrame] = []
        self._since = time.monotonic()

    def add(self, deliveries: Sequence[Delivery], values: pl.DataFrame) -> None:
        self._held.extend(deliveries)
        if not values.is_empty():
            self._values.append(values)

    def stored(self, *, final: bool = False) -> list[Delivery]:
        """Batches whose values are stored by now (all of them when ``final``)."""
        done: list[Delivery] = []
        if self._writing is not None and (final or self._writing.done()):
            done, self._writing = self._writing.result(), None
        due = final or time.monotonic() - self._since >= self.every
        if self._held and self._writing is None and due:
            held, values = self._held, self._values
            self._held, self._values, self._since = [], [], time.monotonic()
            self._writing = self._pool.submit(self._write, held, values)
            if final:
                done += self._writing.result()
                self._writing = None
        return done

    def _write(self, held: list[Delivery], values: list[pl.DataFrame]) -> list[Delivery]:
        if values:
            self.store.write_features(self.set_id, pl.concat(values))
        return held

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def features_stage(
    bus: EventBus,
    store: MarketStore,
    board: Board,
    feature_set: FeatureSet,
    stop: threading.Event,
    *,
    consumer: str = "features-1",
    store_seconds: float = 1.0,
    metrics: StageMetrics | None = None,
    on_progress: Callable[[StageStats], None] | None = None,
) -> StageStats:
    """Compute ``feature_set`` on its source topic (``bars`` or ``trades``) until ``stop``
    is set. Each poll's values are published to ``features`` (with a ``set_id`` column)
    and kept as the latest per symbol on ``board`` at once; they are stored about every
    ``store_seconds`` in the background (and when stopped), and their batches
    acknowledged after that: a tick-level set costs one store write a second, and no
    live value waits for one."""
    until = done_until(store, feature_set)
    values = LiveValues(feature_set, warm(store, feature_set, until), until)
    keeper = _Keeper(store, feature_set.set_id, store_seconds)

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        rows_out = 0
        if deliveries:
            rows = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
            computed = values.add(rows)
            if not computed.is_empty():
                tagged = computed.with_columns(pl.lit(feature_set.set_id).alias("set_id"))
                publish_waiting(bus, FEATURES_TOPIC, tagged, stop)
                unless_down(board.put_latest, feature_set.set_id, computed)
            keeper.add(deliveries, computed)
            rows_out = computed.height
        return Outcome(rows_out, keeper.stored())

    try:
        return consume(
            bus,
            feature_set.kind.value,
            f"features-{feature_set.set_id}",
            consumer,
            work,
            stop,
            metrics=metrics,
            on_progress=on_progress,
            on_stop=lambda: Outcome(0, keeper.stored(final=True)),
        )
    finally:
        keeper.close()
