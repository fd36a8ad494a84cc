"""Datasets of the embedded store: names, keys, schemas and file periods.

``trades`` and ``quotes`` hold ticks, ``bars-<timeframe>`` bars (``bars-1m``) and
``features-<set id>`` the values of a feature set (``symbol, ts`` plus its columns).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from cift.core.errors import ValidationError
from cift.data.store.base import FEATURE_KEYS
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe

FEATURES_PREFIX = "features-"

PERIOD_FORMATS = {"1d": "%Y-%m-%d", "1mo": "%Y-%m", "1y": "%Y"}


def dataset_name(kind: DataKind, timeframe: Timeframe | None) -> str:
    """The dataset a kind (and, for bars, a timeframe) is stored in."""
    if kind is DataKind.BARS:
        if timeframe is None:
            raise ValidationError(f"Bars need a timeframe, e.g. {Timeframe.EXAMPLES}.")
        return f"bars-{timeframe}"
    if timeframe is not None:
        raise ValidationError(f"{kind.value.capitalize()} have no timeframe; drop '{timeframe}'.")
    return kind.value


def features_dataset(set_id: str) -> str:
    return f"{FEATURES_PREFIX}{set_id}"


def is_features(dataset: str) -> bool:
    return dataset.startswith(FEATURES_PREFIX)


def split_dataset(dataset: str) -> tuple[DataKind, str | None]:
    """Inverse of :func:`dataset_name`: the kind and the timeframe text."""
    if dataset.startswith("bars-"):
        return DataKind.BARS, dataset.removeprefix("bars-")
    return DataKind(dataset), None


def keys_of(dataset: str) -> list[str]:
    """The columns that identify a row of ``dataset``."""
    if is_features(dataset):
        return list(FEATURE_KEYS)
    return list(KEY_COLUMNS[split_dataset(dataset)[0]])


def schema_of(dataset: str) -> pl.Schema | None:
    """The fixed schema of a market-data dataset (None for feature sets: theirs varies)."""
    return None if is_features(dataset) else SCHEMAS[split_dataset(dataset)[0]]


def period_length(dataset: str) -> str:
    """How much time one file spans: a day for ticks, a month for intraday bars and
    features, a year for longer bars."""
    if is_features(dataset):
        return "1mo"
    kind, timeframe = split_dataset(dataset)
    if kind is not DataKind.BARS or timeframe is None:
        return "1d"
    return "1mo" if Timeframe.parse(timeframe).nanos < 3_600 * 10**9 else "1y"


def period_start(dataset: str) -> pl.Expr:
    """The start of the file period each row falls in."""
    return pl.col("ts").dt.truncate(period_length(dataset))


def in_range(start: datetime | None, end: datetime | None) -> pl.Expr:
    """``start <= ts < end`` (either bound optional)."""
    condition = pl.lit(True)
    if start is not None:
        condition &= pl.col("ts") >= pl.lit(start).cast(pl.Datetime("ns", "UTC"))
    if end is not None:
        condition &= pl.col("ts") < pl.lit(end).cast(pl.Datetime("ns", "UTC"))
    return condition
