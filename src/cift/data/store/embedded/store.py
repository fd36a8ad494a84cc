"""The embedded market-data store: Parquet files partitioned by dataset, symbol and
period, listed in a SQLite manifest, read lazily with Polars.

Layout under ``root`` (``<CIFT_HOME>/market``)::

    catalog.sqlite                      manifest of visible and retired files
    data/<dataset>/<symbol>/<period>/*.parquet
    tmp/                                files being written

``dataset`` is ``trades``, ``quotes`` or ``bars-<timeframe>`` (``bars-1m``). The period
is a UTC day for ticks, a month for intraday bars and a year for longer bars, so files
hold thousands of rows or more rather than a handful.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import polars as pl

from cift.core.errors import NotFoundError
from cift.core.settings import Settings
from cift.core.timeutil import to_ns
from cift.data.aggregate import resample_bars, trades_to_bars, with_prevailing_quote
from cift.data.metrics import measured_write, timed_query
from cift.data.store.base import (
    COVERAGE_SCHEMA,
    CompactResult,
    WriteResult,
    check_columns,
    feature_rows,
    quotes_since,
    time_bounds,
)
from cift.data.store.embedded import maintenance
from cift.data.store.embedded.catalog import Catalog, FileEntry
from cift.data.store.embedded.datasets import (
    FEATURES_PREFIX,
    PERIOD_FORMATS,
    dataset_name,
    features_dataset,
    in_range,
    is_features,
    keys_of,
    period_length,
    period_start,
    schema_of,
    split_dataset,
)
from cift.data.store.embedded.files import partition_dir, write_atomic, writer_lock
from cift.model import TS_DTYPE, DataKind, Timeframe
from cift.model.validation import DEFAULT_TIME_BOUNDS, TimeBounds, validate_parts

PERIOD = "_period"
WRITE_THREADS = 4


class EmbeddedStore:
    """Market data in Parquet files on local disk; safe for one writer and many readers."""

    backend = "embedded"

    def __init__(self, root: Path, bounds: TimeBounds = DEFAULT_TIME_BOUNDS) -> None:
        self.root = root
        self.bounds = bounds
        self.catalog = Catalog(root)

    @measured_write
    def write(
        self, kind: DataKind, frame: pl.DataFrame, *, timeframe: Timeframe | None = None
    ) -> WriteResult:
        dataset = dataset_name(kind, timeframe)
        by = [pl.col("symbol"), period_start(dataset).alias(PERIOD)]
        parts, report = validate_parts(frame, kind, by=by, bounds=self.bounds)
        result = WriteResult(kind=kind, report=report, rows_written=0, rows_existing=0)
        if not parts:
            return result
        with writer_lock(self.root):
            fresh = [self.unstored(dataset, part) for part in parts.values()]
            entries = self.write_parts(dataset, [part for part in fresh if part.height])
            self.catalog.swap(entries)
        result.rows_written = sum(e.rows for e in entries)
        result.rows_existing = report.accepted - result.rows_written
        result.partitions = len(entries)
        result.symbols = sorted({e.symbol for e in entries})
        return result

    def unstored(self, dataset: str, part: pl.DataFrame) -> pl.DataFrame:
        """The rows of one (symbol, day) part whose key is not stored yet."""
        low, high = ts_bounds(part)
        symbol = str(part.item(0, "symbol"))
        files = self.catalog.active(dataset, [symbol], low, high + 1)
        if not files:
            return part
        keys = keys_of(dataset)
        stored = (
            self.scan_files(dataset, files)
            .select(keys)
            .filter(pl.col("ts").dt.epoch("ns").is_between(low, high))
            .collect()
        )
        return part.join(stored, on=keys, how="anti", nulls_equal=True, maintain_order="left")

    def write_parts(self, dataset: str, parts: Sequence[pl.DataFrame]) -> list[FileEntry]:
        """Write each (symbol, period) part, sorted by key, as a new file; not yet visible."""
        label = PERIOD_FORMATS[period_length(dataset)]

        def write_one(part: pl.DataFrame) -> FileEntry:
            symbol = str(part.item(0, "symbol"))
            period = part.item(0, PERIOD).strftime(label)
            frame = part.drop(PERIOD)
            path = write_atomic(self.root, partition_dir(dataset, symbol, period), frame)
            low, high = ts_bounds(frame)
            return FileEntry(dataset, symbol, period, path, frame.height, low, high)

        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            return list(pool.map(write_one, parts))

    def write_rows(self, dataset: str, rows: pl.DataFrame) -> list[FileEntry]:
        """Write validated rows (sorted by key) as new files, one per (symbol, period)."""
        period = period_start(dataset).alias(PERIOD)
        parts = rows.with_columns(period).partition_by("symbol", PERIOD, maintain_order=True)
        return self.write_parts(dataset, parts)

    def scan_files(self, dataset: str, files: Sequence[FileEntry]) -> pl.LazyFrame:
        """The rows of ``files`` (of one dataset), lazily."""
        schema = schema_of(dataset)
        if not files:
            return pl.LazyFrame(schema=schema or {"symbol": pl.String(), "ts": TS_DTYPE})
        paths = [str(self.root / f.path) for f in files]
        return pl.scan_parquet(paths, schema=schema)

    def scan_range(
        self,
        dataset: str,
        symbols: Sequence[str] | None,
        start: datetime | None,
        end: datetime | None,
    ) -> pl.LazyFrame:
        """Rows of a dataset for some symbols in ``[start, end)``, sorted by key."""
        files = self.catalog.active(dataset, symbols, _ns(start), _ns(end))
        frame = self.scan_files(dataset, files)
        if start is not None or end is not None:
            frame = frame.filter(in_range(start, end))
        if _overlapping(files):
            frame = frame.sort(keys_of(dataset))
        return frame

    def read(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
        columns: Sequence[str] | None = None,
    ) -> pl.LazyFrame:
        with timed_query(self.backend, kind.value):
            frame = self.scan_range(dataset_name(kind, timeframe), symbols, start, end)
        check_columns(kind, columns)
        return frame if columns is None else frame.select(columns)

    def coverage(self, kind: DataKind | None = None) -> pl.DataFrame:
        rows = []
        for dataset, symbol, first, last, count in self.catalog.coverage():
            if is_features(dataset):
                continue
            row_kind, timeframe = split_dataset(dataset)
            if kind is None or row_kind is kind:
                rows.append((row_kind.value, timeframe, symbol, first, last, count))
        frame = pl.DataFrame(
            rows,
            schema={
                "kind": pl.String(),
                "timeframe": pl.String(),
                "symbol": pl.String(),
                "first": pl.Int64(),
                "last": pl.Int64(),
                "rows": pl.Int64(),
            },
            orient="row",
        )
        return frame.with_columns(pl.col("first", "last").cast(pl.Datetime("ns", "UTC"))).cast(
            COVERAGE_SCHEMA
        )

    def latest(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        timeframe: Timeframe | None = None,
    ) -> pl.DataFrame:
        dataset = dataset_name(kind, timeframe)
        files = self.catalog.active(dataset, symbols)
        newest: dict[str, int] = {}
        for entry in files:
            newest[entry.symbol] = max(newest.get(entry.symbol, entry.max_ts), entry.max_ts)
        tail = [f for f in files if f.max_ts == newest[f.symbol]]
        rows = self.scan_files(dataset, tail)
        if _overlapping(tail):
            rows = rows.sort(keys_of(dataset))
        return rows.group_by("symbol", maintain_order=True).last().sort("symbol").collect()

    def bars_from_trades(
        self,
        timeframe: Timeframe,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        trades = self.read(DataKind.TRADES, symbols=symbols, start=start, end=end)
        return trades_to_bars(trades, timeframe)

    def resample_bars(
        self,
        source: Timeframe,
        target: Timeframe,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        bars = self.read(DataKind.BARS, symbols=symbols, start=start, end=end, timeframe=source)
        return resample_bars(bars, source, target)

    def trades_with_quotes(
        self,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        trades = self.read(DataKind.TRADES, symbols=symbols, start=start, end=end)
        quotes = self.read(DataKind.QUOTES, symbols=symbols, start=quotes_since(start), end=end)
        return with_prevailing_quote(trades, quotes)

    def delete(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> int:
        dataset = dataset_name(kind, timeframe)
        with writer_lock(self.root):
            files = self.catalog.active(dataset, symbols, _ns(start), _ns(end))
            return maintenance.delete_rows(self, dataset, files, in_range(start, end))

    def compact(self, kind: DataKind | None = None) -> CompactResult:
        with writer_lock(self.root):
            return maintenance.compact(self, kind)

    def vacuum(self) -> int:
        """Remove retired files past their grace period and files no writer committed."""
        with writer_lock(self.root):
            return maintenance.vacuum(self)

    def write_features(self, set_id: str, frame: pl.DataFrame) -> int:
        """Store feature values; rows whose (symbol, ts) is stored are skipped."""
        if frame.is_empty():
            return 0
        dataset = features_dataset(set_id)
        rows = feature_rows(frame).with_columns(period_start(dataset).alias(PERIOD))
        parts = rows.partition_by("symbol", PERIOD, maintain_order=True)
        with writer_lock(self.root):
            fresh = [self.unstored(dataset, part) for part in parts]
            entries = self.write_parts(dataset, [part for part in fresh if part.height])
            self.catalog.swap(entries)
        return sum(e.rows for e in entries)

    def read_features(
        self,
        set_id: str,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        """Stored values of a feature set, sorted by symbol and time."""
        dataset = features_dataset(set_id)
        if not self.catalog.active(dataset):
            raise NotFoundError(f"No stored feature set {set_id!r}; see 'cift features ls'.")
        return self.scan_range(dataset, symbols, start, end)

    def feature_sets(self) -> pl.DataFrame:
        """One row per stored feature set and symbol: first and last time, rows."""
        rows = [
            (dataset.removeprefix(FEATURES_PREFIX), symbol, first, last, count)
            for dataset, symbol, first, last, count in self.catalog.coverage()
            if dataset.startswith(FEATURES_PREFIX)
        ]
        schema = {
            "set_id": pl.String(),
            "symbol": pl.String(),
            "first": pl.Int64(),
            "last": pl.Int64(),
            "rows": pl.Int64(),
        }
        frame = pl.DataFrame(rows, schema=schema, orient="row")
        return frame.with_columns(pl.col("first", "last").cast(TS_DTYPE))

    def ping(self) -> str:
        return f"embedded catalog at {self.root}, {self.catalog.file_count():,} files"

    def close(self) -> None:
        """Nothing to release: connections are opened per operation."""


def _ns(moment: datetime | None) -> int | None:
    return None if moment is None else to_ns(moment)


def ts_bounds(frame: pl.DataFrame) -> tuple[int, int]:
    """The first and last ``ts`` of a non-empty frame, in nanoseconds."""
    epoch = pl.col("ts").dt.epoch("ns")
    low, high = frame.select(epoch.min(), epoch.max().alias("high")).row(0)
    return int(low), int(high)


def _overlapping(files: Sequence[FileEntry]) -> bool:
    """Whether two files of one symbol overlap in time (then reads must sort)."""
    for before, after in itertools.pairwise(files):
        if before.symbol == after.symbol and after.min_ts <= before.max_ts:
            return True
    return False


def create(settings: Settings) -> EmbeddedStore:
    """The embedded store under ``<CIFT_HOME>/market``."""
    return EmbeddedStore(settings.market_path, time_bounds(settings))
