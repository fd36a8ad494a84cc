"""Market data in local files, as every stage reads it: CSV (plain or gzip) and Parquet
mapped onto CIFT's columns. The ``files`` provider serves them for backfills; features,
backtests and the importer load them directly."""

from pathlib import Path

from cift.data.files.mapping import FileMapping, symbol_from_path
from cift.data.files.normalize import Normalized, normalize
from cift.data.files.reading import read_file


def load(path: Path, mapping: FileMapping | None = None) -> Normalized:
    """Read one file and map it onto CIFT's schema (rows are validated when stored)."""
    mapping = mapping or FileMapping()
    return normalize(read_file(path, mapping), mapping, path)


__all__ = ["FileMapping", "Normalized", "load", "normalize", "read_file", "symbol_from_path"]
