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

import polars as pl

from cift.data.bus import Delivery, EventBus
from cift.data.store.base import MarketStore
from cift.data.stream.board import Board
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import Outcome, StageStats, consume
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
        until = pl.DataFrame(
            {"symbol": list(self.until), "_until": list(self.until.values())},
            schema={"symbol": pl.String(), "_until": pl.Int64()},
        )
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
    and kept as the latest per symbol on ``board`` at once; they are stored every
    ``store_seconds`` (and when stopped), and their batches acknowledged after that, so a
    tick-level set costs one store write a second, not one per poll."""
    until = done_until(store, feature_set)
    values = LiveValues(feature_set, warm(store, feature_set, until), until)
    held: list[Delivery] = []
    unstored: list[pl.DataFrame] = []
    stored_at = [time.monotonic()]

    def settle(force: bool) -> Outcome:
        if not held or (not force and time.monotonic() - stored_at[0] < store_seconds):
            return Outcome(0, ())
        frames = [f for f in unstored if not f.is_empty()]
        if frames:
            store.write_features(feature_set.set_id, pl.concat(frames))
        done = list(held)
        held.clear()
        unstored.clear()
        stored_at[0] = time.monotonic()
        return Outcome(0, done)

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        rows_out = 0
        if deliveries:
            rows = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
            computed = values.add(rows)
            if not computed.is_empty():
                tagged = computed.with_columns(pl.lit(feature_set.set_id).alias("set_id"))
                bus.publish(FEATURES_TOPIC, tagged)
                board.put_latest(feature_set.set_id, computed)
            held.extend(deliveries)
            unstored.append(computed)
            rows_out = computed.height
        return Outcome(rows_out, settle(force=False).done)

    return consume(
        bus,
        feature_set.kind.value,
        f"features-{feature_set.set_id}",
        consumer,
        work,
        stop,
        metrics=metrics,
        on_progress=on_progress,
        on_stop=lambda: settle(force=True),
    )
