"""Datasets: point-in-time rows, label intervals, content-hash caching."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cift.core.errors import NotFoundError, ValidationError
from cift.data.store.embedded import EmbeddedStore
from cift.ml.datasets import DatasetSpec, build_dataset, open_dataset
from cift.ml.labelling import LabelSpec
from cift.model import DataKind, Timeframe
from tests.features.reference import random_bars

MINUTE = Timeframe.parse("1m")
FEATURES = ["rsi(14)", "sma(20)", "macd(12,26,9)", "bbands(20,2,2)", "atr(14)"]
LABELS = {
    "forward": LabelSpec(kind="forward_return", horizon=15),
    "barrier": LabelSpec(
        kind="triple_barrier", horizon=30, profit_taking=2.0, stop_loss=1.0, volatility_span=50
    ),
}


def _store(path: Path, rows: int = 2_500) -> EmbeddedStore:
    store = EmbeddedStore(path)
    bars = pl.concat([random_bars(rows, seed=i, symbol=s) for i, s in enumerate(("AAA", "BBB"))])
    store.write(DataKind.BARS, bars, timeframe=MINUTE)
    return store


def _spec(label: LabelSpec, **extra: object) -> DatasetSpec:
    return DatasetSpec(features=FEATURES, label=label, symbols=["AAA", "BBB"], **extra)


@pytest.mark.parametrize("label", LABELS.values(), ids=LABELS.keys())
def test_truncating_the_data_leaves_every_settled_row_unchanged(
    tmp_path: Path, label: LabelSpec
) -> None:
    store = _store(tmp_path / "market")
    full = build_dataset(store, _spec(label), tmp_path / "ds").frame().collect()
    for cut in (datetime(2020, 1, 1, 9, 7, tzinfo=UTC), datetime(2020, 1, 2, 13, tzinfo=UTC)):
        cut_rows = build_dataset(store, _spec(label, end=cut), tmp_path / "ds").frame().collect()
        settled = full.filter(pl.col("label_end") < cut)
        assert cut_rows.height > 100
        assert cut_rows.get_column("label_end").max() < cut  # type: ignore[operator]
        assert_frame_equal(cut_rows, settled)


def test_forward_return_rows_carry_their_interval_and_outcome(tmp_path: Path) -> None:
    store = _store(tmp_path / "market")
    rows = build_dataset(store, _spec(LABELS["forward"]), tmp_path / "ds").frame().collect()
    bars = random_bars(2_500, seed=0, symbol="AAA")
    close, times = bars.get_column("close").to_numpy(), bars.get_column("ts")
    mine = rows.filter(pl.col("symbol") == "AAA")
    at = np.searchsorted(times.to_numpy(), mine.get_column("ts").to_numpy())
    assert (mine.get_column("label_start") == mine.get_column("ts")).all()
    assert (mine.get_column("label_end").to_numpy() == times.to_numpy()[at + 15]).all()
    expected = close[at + 15] / close[at] - 1
    np.testing.assert_allclose(mine.get_column("fwd_ret").to_numpy(), expected, rtol=1e-12)
    assert (mine.get_column("fwd_label").to_numpy() == np.sign(expected)).all()
    # macd's slow average warms up over 33 bars; the last 15 bars have no settled label
    assert mine.height == 2_500 - 33 - 15
    assert not rows.select(pl.any_horizontal(pl.all().is_null())).to_series().any()


def test_a_rebuild_reuses_its_parts_and_changed_inputs_make_a_new_dataset(tmp_path: Path) -> None:
    store = _store(tmp_path / "market")
    root = tmp_path / "ds"
    first = build_dataset(store, _spec(LABELS["barrier"]), root)
    written = {p: p.stat().st_mtime_ns for p in first.parts}
    again = build_dataset(store, _spec(LABELS["barrier"]), root)
    assert again.dataset_hash == first.dataset_hash
    assert {p: p.stat().st_mtime_ns for p in again.parts} == written
    other = build_dataset(store, _spec(LABELS["forward"]), root)
    assert other.data_hash == first.data_hash
    assert other.dataset_hash != first.dataset_hash
    store.write(DataKind.BARS, random_bars(2_600, seed=0, symbol="AAA"), timeframe=MINUTE)
    grown = build_dataset(store, _spec(LABELS["barrier"]), root)
    assert grown.data_hash != first.data_hash
    assert grown.rows > first.rows
    reopened = open_dataset(root, grown.dataset_hash[:10])
    assert reopened.manifest() == grown.manifest()
    assert_frame_equal(reopened.frame().collect(), grown.frame().collect())


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    store = _store(tmp_path / "market", rows=200)
    root = tmp_path / "ds"
    with pytest.raises(ValidationError, match="No stored 1m bars for ZZZ"):
        build_dataset(store, _spec(LABELS["forward"]).model_copy(update={"symbols": ["ZZZ"]}), root)
    with pytest.raises(ValidationError, match="Unknown feature"):
        build_dataset(
            store, _spec(LABELS["forward"]).model_copy(update={"features": ["nope(3)"]}), root
        )
    long = LabelSpec(kind="forward_return", horizon=500)
    with pytest.raises(NotFoundError, match="Widen the range or shorten the horizon"):
        build_dataset(store, _spec(long), root)
    with pytest.raises(NotFoundError, match="not a dataset built here"):
        open_dataset(root, "abc123")
    built = build_dataset(store, _spec(LABELS["forward"]), root)
    built.parts[0].unlink()
    with pytest.raises(NotFoundError, match="build it again"):
        open_dataset(root, built.dataset_hash)
