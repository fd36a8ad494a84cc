"""Feature sets: declared in YAML or Python, stored by content, replayed live exactly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cift.core.errors import NotFoundError, ValidationError
from cift.data.files import load
from cift.data.store.embedded import EmbeddedStore
from cift.features.catalog_docs import catalog_markdown
from cift.features.engine import compute
from cift.features.pipeline import FeatureSet, compute_and_store, compute_set, default_set
from cift.features.spec import all_specs, parse_call
from cift.model import DataKind, Timeframe
from tests.features.reference import DATA, random_bars

YAML = """
name: swing
description: daily swing features
source: {kind: bars, timeframe: 1d}
features:
  - rsi(14)
  - {name: bbands, params: {timeperiod: 20, nbdevup: 1.5}, alias: bb}
  - macd
"""


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "market")
    for name in ("daily/nvda-1999-2014.csv", "daily/orcl-1995-2014.csv"):
        loaded = load(DATA / name)
        store.write(DataKind.BARS, loaded.frame, timeframe=loaded.timeframe)
    return store


def test_yaml_and_python_declarations_are_the_same_set(tmp_path: Path) -> None:
    path = tmp_path / "swing.yaml"
    path.write_text(YAML)
    from_yaml = FeatureSet.from_yaml(path)
    from_text = FeatureSet.from_text(
        "swing", "rsi(14),bb=bbands(20,1.5),macd", timeframe=Timeframe.parse("1d")
    )
    assert from_yaml.digest == from_text.digest
    assert from_yaml.columns == [
        "rsi",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "macd",
        "macd_signal",
        "macd_hist",
    ]
    changed = FeatureSet.from_text(
        "swing", "rsi(15),bb=bbands(20,1.5),macd", timeframe=Timeframe.parse("1d")
    )
    assert changed.digest != from_yaml.digest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nfeatures: [rsi(14)]\nsource: {kind: bars, timeframe: fortnight}", "timeframe"),
        ("name: x\nfeatures: [nope]", "Unknown feature"),
        ("features: 3", "a list"),
        ("[a, b", "cannot read"),
    ],
)
def test_bad_yaml_is_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError, match=message):
        FeatureSet.from_yaml(path)


def test_stored_values_equal_a_direct_computation_and_are_idempotent(store: EmbeddedStore) -> None:
    feature_set = default_set(Timeframe.parse("1d"))
    first = compute_and_store(store, feature_set)
    assert first.symbols == 2
    assert first.written == 4012 + 5036
    again = compute_and_store(store, feature_set)
    assert again.written == 0
    stored = store.read_features(feature_set.set_id, symbols=["NVDA"]).collect()
    bars = store.read(DataKind.BARS, symbols=["NVDA"], timeframe=Timeframe.parse("1d")).collect()
    assert_frame_equal(stored, compute_set(bars, feature_set))
    listed = store.feature_sets()
    assert set(listed.get_column("set_id")) == {feature_set.set_id}


def test_a_later_start_keeps_full_history_warm_up(store: EmbeddedStore) -> None:
    feature_set = FeatureSet.from_text("long", "sma(200)", timeframe=Timeframe.parse("1d"))
    from datetime import UTC, datetime

    compute_and_store(store, feature_set, symbols=["ORCL"], start=datetime(2014, 1, 1, tzinfo=UTC))
    stored = store.read_features(feature_set.set_id).collect()
    assert stored.get_column("ts").dt.date().min() == date(2014, 1, 2)
    assert stored.get_column("sma").null_count() == 0  # warmed up on the years before


def test_unknown_symbol_and_set_are_clear_errors(store: EmbeddedStore) -> None:
    with pytest.raises(ValidationError, match="No stored bars"):
        compute_and_store(store, default_set(Timeframe.parse("1d")), symbols=["ZZZ"])
    with pytest.raises(NotFoundError, match="No stored feature set"):
        store.read_features("nope-123")


def test_labels_cannot_be_input_features() -> None:
    forward = [s for s in all_specs() if s.forward_looking]
    for spec in forward:
        with pytest.raises(ValidationError, match="forward-looking"):
            FeatureSet("x", (parse_call(spec.name),), timeframe=Timeframe.parse("1m"))


def test_a_day_replayed_event_by_event_gives_exactly_the_batch_values() -> None:
    bars = load(DATA / "minute/6EH4-cme-1min-2024-01.csv.gz").frame
    day = bars.filter(pl.col("ts").dt.date() == date(2024, 1, 10))
    feature_set = default_set()
    batch = compute_set(day, feature_set)
    live = feature_set.live()
    replayed = [live.update("6EH4", row) for row in day.iter_rows(named=True)]
    for column in feature_set.columns:
        ours = np.array([r[column] if r[column] is not None else np.nan for r in replayed])
        assert np.array_equal(ours, batch.get_column(column).to_numpy(), equal_nan=True), column


def test_compute_set_keeps_only_keys_and_features() -> None:
    frame = random_bars(100)
    out = compute_set(frame, default_set())
    assert out.columns[:2] == ["symbol", "ts"]
    assert out.height == 100
    assert out.columns[2:] == default_set().columns
    assert compute(frame, list(default_set().calls)).height == 100


def test_feature_catalog_doc_is_generated_from_the_registry() -> None:
    committed = (Path(__file__).resolve().parents[2] / "docs" / "feature-catalog.md").read_text()
    assert committed == catalog_markdown(), "run: cift features docs"
    for spec in all_specs():
        assert f"| `{spec.name}` |" in committed
