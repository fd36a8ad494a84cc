"""Point-in-time datasets: a feature set's values and a label on every bar, over many symbols.

A row at ``ts`` holds features computed from bars up to and including ``ts`` only
(the feature engine's guarantee, which the tests check by truncating the data), its
label's interval ``[label_start, label_end]`` and outcome (``fwd_ret``, ``fwd_label``).
Bars are read from each symbol's first stored bar, so warm-ups are those of the full
history; rows whose features are still warming up, or whose label the data does not
settle before ``end``, are left out.

Datasets are built in batches of symbols, each written once as a Parquet part named by
the hash of its inputs (bars, feature set, label, range), so a rebuild of unchanged data
reads nothing but the bars, and an interrupted build resumes at the next missing part.
A dataset's id is the hash of its data snapshot, feature-set SHA and label spec; its
manifest lists the parts, which :meth:`Dataset.frame` scans lazily.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from cift.core.errors import NotFoundError, ValidationError
from cift.core.files import write_text_atomic
from cift.core.settings import Settings
from cift.data.digest import frame_digest
from cift.data.export import export_frame
from cift.data.providers.base import check_range
from cift.data.store import open_store
from cift.data.store.base import MarketStore
from cift.features.engine import segments
from cift.features.pipeline import FeatureSet, compute_set, symbol_batches
from cift.ml.labelling import LABEL_COLUMNS, LabelSpec, label_bars
from cift.model import DataKind, Timeframe
from cift.model.fields import TimeframeText

Progress = Callable[[int, int], None]
"""Called with (symbols done, symbols in all) after each batch."""


class DatasetSpec(BaseModel):
    """What a dataset is made of: features, label, symbols and the range of bars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: list[str] = Field(min_length=1, max_length=200, description="Catalog calls.")
    timeframe: TimeframeText = Field("1m", description="Bars the features are computed on.")
    label: LabelSpec
    symbols: list[str] = Field(min_length=1, max_length=10_000)
    start: datetime | None = Field(None, description="First row's time (inclusive, UTC).")
    end: datetime | None = Field(
        None, description="End of the bars read (exclusive, UTC): labels never look past it."
    )

    def feature_set(self) -> FeatureSet:
        """The features as a set over bars; a CiftError names what the catalog lacks."""
        return FeatureSet.from_text(
            "dataset", ",".join(self.features), timeframe=Timeframe.parse(self.timeframe)
        )

    def content(self) -> dict[str, Any]:
        """Canonical form (features as the catalog writes them, symbols sorted)."""
        return {
            "features": self.feature_set().content,
            "label": self.label.content,
            "symbols": sorted(set(self.symbols)),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class Dataset:
    """A built dataset: its identity, lineage hashes and the Parquet parts it lives in."""

    dataset_hash: str
    data_hash: str
    feature_set_sha: str
    spec: DatasetSpec
    features: list[str]
    symbols: list[str]
    rows: int
    parts: list[Path]
    span: tuple[str, str] = ("", "")
    """The first row's time and the last label's end (ISO, UTC): the market history the
    dataset's features and labels read, which a backtest must not overlap to be
    out-of-sample."""

    def frame(self) -> pl.LazyFrame:
        """``symbol, ts``, the features and the label columns, by symbol and time."""
        return pl.scan_parquet(self.parts)

    def manifest(self) -> dict[str, Any]:
        return {
            "dataset_hash": self.dataset_hash,
            "data_hash": self.data_hash,
            "feature_set_sha": self.feature_set_sha,
            "spec": self.spec.model_dump(mode="json"),
            "features": self.features,
            "symbols": self.symbols,
            "rows": self.rows,
            "parts": [p.name for p in self.parts],
            "span": list(self.span),
        }


def dataset_root(settings: Settings) -> Path:
    """Where datasets are cached: ``<CIFT_HOME>/ml/datasets``."""
    return settings.home / "ml" / "datasets"


def build_dataset(
    store: MarketStore, spec: DatasetSpec, root: Path, *, progress: Progress | None = None
) -> Dataset:
    """Build (or find cached) the dataset of ``spec`` from stored bars."""
    if spec.start is not None and spec.end is not None:
        check_range(spec.start, spec.end)
    features = spec.feature_set()
    symbols = _stored_symbols(store, spec)
    parts: list[Path] = []
    digests: list[str] = []
    for batch in symbol_batches(symbols):
        bars = store.read(
            DataKind.BARS, symbols=batch, end=spec.end, timeframe=features.timeframe
        ).collect()
        digest = frame_digest(bars)
        part = root / "parts" / f"{_hash(digest, features.sha256, spec.content())}.parquet"
        if not part.exists():
            export_frame(dataset_rows(bars, features, spec), part, compression="lz4")
        parts.append(part)
        digests.append(digest)
        if progress is not None:
            progress(len(parts) * len(batch), len(symbols))
    data_hash = _hash(*digests)
    dataset_hash = _hash(data_hash, features.sha256, spec.content())
    rows, first, last = (
        pl.scan_parquet(parts)
        .select(pl.len(), pl.col("ts").min(), pl.col("label_end").max())
        .collect()
        .row(0)
    )
    if not rows:
        raise NotFoundError(
            f"No rows for {spec.label.text()} over {', '.join(symbols)} in that range: the "
            "features' warm-up and the label's horizon leave nothing. Widen the range or "
            "shorten the horizon."
        )
    span = (first.isoformat(), last.isoformat())
    dataset = Dataset(
        dataset_hash, data_hash, features.sha256, spec, features.columns, symbols, rows, parts, span
    )
    manifest = root / f"{dataset_hash}.json"
    write_text_atomic(manifest, json.dumps(dataset.manifest(), indent=2, sort_keys=True))
    return dataset


def build_configured(
    settings: Settings, spec: DatasetSpec, progress: Progress | None = None
) -> Dataset:
    """:func:`build_dataset` on the configured store, cached under :func:`dataset_root`."""
    store = open_store(settings)
    try:
        return build_dataset(store, spec, dataset_root(settings), progress=progress)
    finally:
        store.close()


def dataset_rows(bars: pl.DataFrame, features: FeatureSet, spec: DatasetSpec) -> pl.DataFrame:
    """Features and labels of ``bars`` (any symbols), rows from ``spec.start`` on, each
    with every feature defined and its label settled."""
    values = compute_set(bars, features)  # by symbol and time, as the labels are
    labels = label_bars(bars, spec.label)
    rows = values[_rows_of(values, labels)].hstack(labels.select(LABEL_COLUMNS))
    if spec.start is not None:
        rows = rows.filter(pl.col("ts") >= pl.lit(spec.start).cast(pl.Datetime("ns", "UTC")))
    values_of = pl.col(features.columns)
    defined = pl.all_horizontal(values_of.is_not_null() & values_of.cast(pl.Float64).is_finite())
    return rows.filter(defined)


def _rows_of(values: pl.DataFrame, labels: pl.DataFrame) -> np.ndarray:
    """The row of ``values`` each label belongs to: both are grouped by symbol in time
    order and the labels' bars are some of the values' bars, so a binary search within
    each symbol finds it (a hash join on symbol and time costs several times more)."""
    times = values.get_column("ts").cast(pl.Int64).to_numpy()
    label_times = labels.get_column("ts").cast(pl.Int64).to_numpy()
    where = _runs(values.get_column("symbol"))
    out = np.empty(labels.height, dtype=np.int64)
    for symbol, (first, stop) in _runs(labels.get_column("symbol")).items():
        a, b = where[symbol]
        out[first:stop] = a + np.searchsorted(times[a:b], label_times[first:stop])
    return out


def _runs(symbols: pl.Series) -> dict[str, tuple[int, int]]:
    """Each symbol's ``[first, stop)`` rows in a column grouped by symbol."""
    return {symbols[a]: (a, b) for a, b in segments(symbols, symbols.len())}


def open_dataset(root: Path, dataset_hash: str) -> Dataset:
    """A dataset built before, by its id (or a unique prefix of it)."""
    found = sorted(root.glob(f"{dataset_hash}*.json")) if dataset_hash.isalnum() else []
    if len(found) != 1:
        state = "matches several datasets" if found else "is not a dataset built here"
        raise NotFoundError(f"{dataset_hash!r} {state}; see 'cift ml dataset ls'.")
    manifest = json.loads(found[0].read_text(encoding="utf-8"))
    parts = [root / "parts" / name for name in manifest["parts"]]
    missing = [p.name for p in parts if not p.exists()]
    if missing:
        raise NotFoundError(
            f"Dataset {manifest['dataset_hash'][:12]} lost {len(missing)} part(s); build it "
            "again with 'cift ml dataset build'."
        )
    return Dataset(
        dataset_hash=manifest["dataset_hash"],
        data_hash=manifest["data_hash"],
        feature_set_sha=manifest["feature_set_sha"],
        spec=DatasetSpec.model_validate(manifest["spec"]),
        features=manifest["features"],
        symbols=manifest["symbols"],
        rows=manifest["rows"],
        parts=parts,
        span=tuple(manifest.get("span", ("", ""))),
    )


def list_datasets(root: Path) -> list[dict[str, Any]]:
    """The manifests of every dataset built here, newest first."""
    manifests = sorted(root.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [json.loads(p.read_text(encoding="utf-8")) for p in manifests]


def _stored_symbols(store: MarketStore, spec: DatasetSpec) -> list[str]:
    timeframe = str(Timeframe.parse(spec.timeframe))
    coverage = store.coverage(DataKind.BARS).filter(pl.col("timeframe") == timeframe)
    stored = set(coverage.get_column("symbol").to_list())
    missing = sorted(set(spec.symbols) - stored)
    if missing:
        raise ValidationError(
            f"No stored {timeframe} bars for {', '.join(missing)}; see 'cift data ls' and load "
            "them with 'cift data backfill'."
        )
    return sorted(set(spec.symbols))


def _hash(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
