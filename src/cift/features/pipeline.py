"""Feature sets: declared in YAML or Python, computed for many symbols, stored by content.

A set names its source data (stored bars of a timeframe, trades or quotes) and its
feature calls. Its identity is a hash of that content, so changing a parameter makes
a new set instead of silently overwriting stored values. The same set drives the live
path through ``FeatureSet.live()``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from cift.core.errors import NotFoundError, ValidationError
from cift.data.store.base import MarketStore
from cift.features.engine import LiveFeatures, compute
from cift.features.spec import FeatureCall, bind, lookup, name_columns, parse_call, split_calls
from cift.model import DataKind, Timeframe

SYMBOLS_PER_BATCH = 100
"""Symbols computed together: bounds memory while keeping kernel calls few."""

DEFAULT_FEATURES = (
    "sma(20)",
    "ema(20)",
    "rsi(14)",
    "macd(12,26,9)",
    "bbands(20,2,2)",
    "atr(14)",
    "adx(14)",
    "stoch(14,3,3)",
    "obv",
    "roc(10)",
    "zscore(20)",
)
"""The default set: common trend, momentum, volatility and volume features of bars."""


@dataclass(frozen=True)
class FeatureSet:
    """Feature calls over one source of stored data."""

    name: str
    calls: tuple[FeatureCall, ...]
    kind: DataKind = DataKind.BARS
    timeframe: Timeframe | None = field(default_factory=lambda: Timeframe.parse("1m"))
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.replace("-", "").replace("_", "").isalnum():
            raise ValidationError(f"Feature set name {self.name!r}: use letters, digits, - and _.")
        if not self.calls:
            raise ValidationError(f"Feature set {self.name!r} has no features.")
        if (self.kind is DataKind.BARS) != (self.timeframe is not None):
            raise ValidationError(f"Feature set {self.name!r}: bars need a timeframe, ticks none.")
        forward = [c.spec.name for c in self.calls if c.spec.forward_looking]
        if forward:
            raise ValidationError(
                f"Feature set {self.name!r} includes forward-looking outputs {forward}; "
                "labels belong to datasets for training, not to input features."
            )
        name_columns(list(self.calls))  # fail early on clashing column names

    @property
    def content(self) -> dict[str, Any]:
        """What defines the values: the source and the canonical calls."""
        return {
            "kind": self.kind.value,
            "timeframe": str(self.timeframe) if self.timeframe else None,
            "features": [call.text() for call in self.calls],
        }

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the canonical content: what the values depend on, exactly."""
        canonical = json.dumps(self.content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def digest(self) -> str:
        """A short hash of the content (the set's identity in the store)."""
        return self.sha256[:12]

    @property
    def set_id(self) -> str:
        return f"{self.name}-{self.digest}"

    @property
    def columns(self) -> list[str]:
        """The output columns, in order."""
        return [column for call in name_columns(list(self.calls)) for column in call.columns]

    def live(self) -> LiveFeatures:
        """The same features, updated one event at a time."""
        return LiveFeatures(self.calls)

    @classmethod
    def from_text(cls, name: str, text: str, **source: Any) -> FeatureSet:
        """From ``"rsi(14),macd(12,26,9)"``."""
        return cls(name, tuple(parse_call(t) for t in split_calls(text)), **source)

    @classmethod
    def from_yaml(cls, path: Path) -> FeatureSet:
        """From a YAML file with ``name``, ``source`` (kind, timeframe) and ``features``."""
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationError(f"{path}: cannot read the feature set ({exc}).") from None
        if not isinstance(document, dict) or "features" not in document:
            raise ValidationError(f"{path}: expected a mapping with 'name' and 'features'.")
        if not isinstance(document["features"], list):
            raise ValidationError(f"{path}: 'features' must be a list, e.g. [rsi(14), macd].")
        source = document.get("source") or {}
        kind = DataKind(source.get("kind", "bars"))
        timeframe = source.get("timeframe", "1m" if kind is DataKind.BARS else None)
        return cls(
            name=str(document.get("name", path.stem)),
            calls=tuple(_call_from_yaml(item, path) for item in document["features"]),
            kind=kind,
            timeframe=Timeframe.parse(timeframe) if timeframe else None,
            description=str(document.get("description", "")),
        )


def _call_from_yaml(item: Any, path: Path) -> FeatureCall:
    if isinstance(item, str):
        return parse_call(item)
    if isinstance(item, dict) and "name" in item:
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise ValidationError(f"{path}: params of {item['name']} must be a mapping.")
        return bind(lookup(str(item["name"])), [], dict(params), item.get("alias"))
    raise ValidationError(f"{path}: each feature is 'rsi(14)' or {{name: rsi, params: {{...}}}}.")


def default_set(timeframe: Timeframe | None = None) -> FeatureSet:
    """The built-in default set over bars (1-minute unless told otherwise)."""
    return FeatureSet.from_text(
        "default", ",".join(DEFAULT_FEATURES), timeframe=timeframe or Timeframe.parse("1m")
    )


def compute_set(frame: pl.DataFrame, feature_set: FeatureSet) -> pl.DataFrame:
    """``symbol, ts`` and every feature column of ``frame`` (any number of symbols)."""
    return compute(frame, feature_set.calls).select("symbol", "ts", *feature_set.columns)


def symbol_batches(symbols: Sequence[str]) -> Iterator[list[str]]:
    """``symbols`` in batches of :data:`SYMBOLS_PER_BATCH`."""
    for start in range(0, len(symbols), SYMBOLS_PER_BATCH):
        yield list(symbols[start : start + SYMBOLS_PER_BATCH])


@dataclass
class ComputeResult:
    set_id: str
    symbols: int
    rows: int
    written: int


def compute_and_store(
    store: MarketStore,
    feature_set: FeatureSet,
    *,
    symbols: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> ComputeResult:
    """Compute the set over stored data and store the values under the set's id.

    Features are computed from the first stored row of each symbol (so warm-ups and
    recursive averages are those of the full history) and the rows in ``[start, end)``
    are stored.
    """
    available = store.coverage(feature_set.kind)
    if feature_set.timeframe is not None:
        available = available.filter(pl.col("timeframe") == str(feature_set.timeframe))
    names = sorted(available.get_column("symbol").unique().to_list())
    chosen = [s for s in names if symbols is None or s in set(symbols)]
    missing = sorted(set(symbols or []) - set(names))
    if missing:
        raise ValidationError(
            f"No stored {feature_set.kind.value} {feature_set.timeframe or ''} for {missing}; "
            "see 'cift data ls'."
        )
    result = ComputeResult(feature_set.set_id, len(chosen), 0, 0)
    for batch in symbol_batches(chosen):
        source = store.read(
            feature_set.kind, symbols=batch, end=end, timeframe=feature_set.timeframe
        ).collect()
        values = compute_set(source, feature_set)
        if start is not None:
            values = values.filter(pl.col("ts") >= pl.lit(start).cast(pl.Datetime("ns", "UTC")))
        result.rows += values.height
        result.written += store.write_features(feature_set.set_id, values)
    return result


def stored_set_id(store: MarketStore, name: str) -> str:
    """The stored set ``name`` names: a set id as ``cift features ls`` lists it, or a set's
    name (``default``) when exactly one set of that name is stored."""
    stored = store.feature_sets().get_column("set_id").unique().sort().to_list()
    if name in stored:
        return name
    named = [set_id for set_id in stored if set_id.rsplit("-", 1)[0] == name]
    if len(named) == 1:
        return str(named[0])
    if named:
        raise ValidationError(
            f"Several stored feature sets are named {name!r}: {', '.join(named)}; give one "
            "of those ids."
        )
    raise NotFoundError(f"No stored feature set {name!r}; see 'cift features ls'.")
