"""Rows as psycopg returns them from QuestDB, mapped to the model's frames.

On the PostgreSQL wire QuestDB sends SYMBOL and VARCHAR as text, DOUBLE as float8, LONG
as int8, BYTE as int2 and BOOLEAN as bool; ``ts`` is selected as ``cast(ts AS LONG)``
(nanoseconds). A null DOUBLE is stored as NaN, so NaN reads back as null.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from cift.data.store.base import COVERAGE_SCHEMA
from cift.model import TS_DTYPE

Row = tuple[Any, ...]


def to_frame(rows: Sequence[Row], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Rows whose columns follow ``schema`` (``ts`` and other times as int ns) as a frame
    of that schema."""
    wire = {n: _wire_dtype(d) for n, d in schema.items()}
    frame = pl.DataFrame(list(rows), schema=wire, orient="row")
    return frame.select(
        pl.col(n).fill_nan(None) if d.is_float() else pl.col(n).cast(d) for n, d in schema.items()
    )


def _wire_dtype(dtype: pl.DataType) -> pl.DataType:
    if dtype == TS_DTYPE or dtype.is_integer():
        return pl.Int64()
    return dtype


def coverage_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """``(kind, timeframe, symbol, first ns, last ns, rows)`` rows as the coverage frame."""
    return to_frame(rows, COVERAGE_SCHEMA)


FEATURE_SETS_SCHEMA = pl.Schema(
    {
        "set_id": pl.String(),
        "symbol": pl.String(),
        "first": TS_DTYPE,
        "last": TS_DTYPE,
        "rows": pl.Int64(),
    }
)


def feature_sets_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """``(set_id, symbol, first ns, last ns, rows)`` rows, sorted like the embedded store."""
    return to_frame(rows, FEATURE_SETS_SCHEMA).sort("set_id", "symbol")
