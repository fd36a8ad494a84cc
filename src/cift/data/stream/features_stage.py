"""The features stage: live values of a feature set from the bus, stored, published
and kept as the latest per symbol.

It runs the set's own kernels (``FeatureSet.live()``), continuing each symbol's state
batch after batch, so a live value equals ``cift features compute`` over the same rows.
On start it rebuilds each symbol's state from the stored rows up to its newest stored
value and skips what it already computed, so a restart neither repeats nor resets.
"""

from __future__ import annotations

import threading
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
    metrics: StageMetrics | None = None,
    on_progress: Callable[[StageStats], None] | None = None,
) -> StageStats:
    """Compute ``feature_set`` on its source topic (``bars`` or ``trades``) until ``stop``
    is set: each poll's values are stored, published to ``features`` (with a ``set_id``
    column) and kept as the latest per symbol on ``board``, then acknowledged."""
    until = done_until(store, feature_set)
    values = LiveValues(feature_set, warm(store, feature_set, until), until)

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        if not deliveries:
            return Outcome(0, ())
        rows = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
        computed = values.add(rows)
        if not computed.is_empty():
            store.write_features(feature_set.set_id, computed)
            bus.publish(
                FEATURES_TOPIC, computed.with_columns(pl.lit(feature_set.set_id).alias("set_id"))
            )
            board.put_latest(feature_set.set_id, computed)
        return Outcome(computed.height, deliveries)

    return consume(
        bus,
        feature_set.kind.value,
        f"features-{feature_set.set_id}",
        consumer,
        work,
        stop,
        metrics=metrics,
        on_progress=on_progress,
    )
