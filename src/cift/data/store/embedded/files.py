"""Atomic Parquet files and the writer lock of the embedded store."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from cift.core.ids import uuid7
from cift.model.symbols import symbol_folder

DATA_DIR = "data"
TMP_DIR = "tmp"
ROW_GROUP_ROWS = 256_000


def partition_dir(dataset: str, symbol: str, period: str) -> str:
    """Relative folder of one partition (``BTC/USDT`` is ``BTC%2FUSDT``)."""
    return f"{DATA_DIR}/{dataset}/{symbol_folder(symbol)}/{period}"


def write_atomic(root: Path, relative_dir: str, frame: pl.DataFrame) -> str:
    """Write ``frame`` as a new Parquet file that appears complete or not at all.

    The file is written under ``tmp/``, flushed to disk, then renamed into place; the
    caller makes it visible by committing it to the catalog.
    """
    final_dir = root / relative_dir
    final_dir.mkdir(parents=True, exist_ok=True)
    name = f"{uuid7().hex}.parquet"
    staging = root / TMP_DIR / name
    staging.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(staging, compression="zstd", row_group_size=ROW_GROUP_ROWS, statistics=True)
    with staging.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, final_dir / name)
    _fsync_dir(final_dir)
    return f"{relative_dir}/{name}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Serialise writers across processes (readers never wait for it)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "writer.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def remove_quietly(path: Path) -> None:
    """Delete a file if it is still there."""
    path.unlink(missing_ok=True)
