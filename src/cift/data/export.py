"""Write frames to Parquet or CSV files atomically: the file is complete or absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl
from polars._typing import ParquetCompression

from cift.core.errors import ValidationError

FORMATS = (".parquet", ".csv")


def export_frame(
    frame: pl.DataFrame | pl.LazyFrame, path: Path, *, compression: ParquetCompression = "zstd"
) -> int:
    """Write ``frame`` to ``path`` (format from the suffix; Parquet ``compression``:
    zstd for size, lz4 for twice the speed); returns the rows written."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(f"{path}: choose a .parquet or .csv file name to export to.")
    rows = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if suffix == ".parquet":
            rows.write_parquet(staging, compression=compression)
        else:
            rows.with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")).write_csv(
                staging
            )
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return rows.height
