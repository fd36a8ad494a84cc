"""The market-data store protocol, implemented by the embedded catalog and by QuestDB.

Semantics every backend keeps:
- ``write`` validates (``cift.model.validation``), is idempotent on the kind's key
  columns (rows already stored are skipped), and accepts late and out-of-order rows.
- Reads return rows sorted by ``(symbol, ts)`` for ``start <= ts < end``; a write is
  visible to every read built after it returns (rows written while a lazy read waits
  to be collected may or may not appear in it).
- Bars carry a timeframe; trades and quotes do not.
- Aggregations: bars from trades take the first, highest, lowest and last price, the
  summed size, the size-weighted price and the trade count of each window
  ``[ts, ts + timeframe)`` aligned to the UTC epoch; coarser bars combine finer ones the
  same way (vwap weighted by volume). The prevailing quote of a trade is the last quote
  with ``quote.ts <= trade.ts`` of the same symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import polars as pl

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.model import SCHEMAS, TS_DTYPE, DataKind, Timeframe
from cift.model.symbols import canonical_symbols
from cift.model.validation import TimeBounds, ValidationReport, check_symbols

FEATURE_KEYS = ("symbol", "ts")
QUOTE_LOOKBACK = timedelta(days=1)
"""How far before a range's start both stores look for the quote prevailing at its first
trade (``trades_with_quotes``)."""

COVERAGE_SCHEMA = pl.Schema(
    {
        "kind": pl.String(),
        "timeframe": pl.String(),
        "symbol": pl.String(),
        "first": pl.Datetime("ns", "UTC"),
        "last": pl.Datetime("ns", "UTC"),
        "rows": pl.Int64(),
    }
)


@dataclass
class WriteResult:
    """What one write stored."""

    kind: DataKind
    report: ValidationReport
    rows_written: int
    rows_existing: int
    partitions: int = 0
    symbols: list[str] = field(default_factory=list)


@dataclass
class CompactResult:
    """What one compaction did."""

    partitions: int
    files_before: int
    files_after: int
    rows: int


def check_columns(kind: DataKind, columns: Sequence[str] | None) -> None:
    """Refuse a column ``kind`` does not have, naming those it has."""
    if columns is None:
        return
    schema = SCHEMAS[kind]
    unknown = sorted(set(columns) - set(schema))
    if unknown:
        raise ValidationError(
            f"Unknown {kind.value} column(s) {unknown}; choose from {list(schema)}."
        )


def quotes_since(start: datetime | None) -> datetime | None:
    """Where to start reading quotes for the trades from ``start`` on."""
    return None if start is None else start - QUOTE_LOOKBACK


def feature_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Feature values as every store writes them: ``ts`` in nanoseconds, one row per
    (symbol, ts) (the last wins), sorted; rows without a key or a valid symbol refused."""
    keys = list(FEATURE_KEYS)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValidationError(f"Feature values need columns {keys}; {missing} missing.")
    if frame.select(pl.any_horizontal(pl.col(keys).is_null()).any()).item():
        raise ValidationError("Feature values have rows without a symbol or time.")
    check_symbols(frame.get_column("symbol").unique().to_list())
    return (
        frame.with_columns(
            canonical_symbols(frame.get_column("symbol")), pl.col("ts").cast(TS_DTYPE)
        )
        .unique(keys, keep="last", maintain_order=True)
        .sort(keys)
    )


@runtime_checkable
class MarketStore(Protocol):
    """Ticks, quotes and bars by symbol and time."""

    backend: str

    def write(
        self, kind: DataKind, frame: pl.DataFrame, *, timeframe: Timeframe | None = None
    ) -> WriteResult:
        """Validate and store rows; rows whose key is stored already are skipped."""
        ...

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
        """Rows of ``kind`` (all symbols when None) in ``[start, end)``, by symbol and time."""
        ...

    def coverage(self, kind: DataKind | None = None) -> pl.DataFrame:
        """One row per (kind, timeframe, symbol): first and last ts and the row count."""
        ...

    def latest(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        timeframe: Timeframe | None = None,
    ) -> pl.DataFrame:
        """The newest row of each symbol."""
        ...

    def bars_from_trades(
        self,
        timeframe: Timeframe,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        """Bars of ``timeframe`` aggregated from stored trades."""
        ...

    def resample_bars(
        self,
        source: Timeframe,
        target: Timeframe,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        """Bars of ``target`` combined from stored bars of the finer ``source``."""
        ...

    def trades_with_quotes(
        self,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        """Trades with the prevailing quote's bid, ask, bid_size and ask_size."""
        ...

    def delete(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> int:
        """Remove rows in ``[start, end)``; returns how many were removed."""
        ...

    def compact(self, kind: DataKind | None = None) -> CompactResult:
        """Merge small files or partitions so reads touch fewer of them."""
        ...

    def write_features(self, set_id: str, frame: pl.DataFrame) -> int:
        """Store a feature set's values (``symbol, ts`` plus its columns); rows whose
        (symbol, ts) is stored are skipped. Returns the rows written."""
        ...

    def read_features(
        self,
        set_id: str,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        """Stored values of a feature set, sorted by symbol and time."""
        ...

    def feature_sets(self) -> pl.DataFrame:
        """One row per stored feature set and symbol: set_id, symbol, first, last, rows."""
        ...

    def ping(self) -> str:
        """Check the store answers; a short description of it, or an error if it is down."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def time_bounds(settings: Settings) -> TimeBounds:
    """The times a store accepts, from ``CIFT_MARKET_EARLIEST_TIME`` and ``..._LATEST_TIME``."""
    return TimeBounds(settings.market_earliest_time, settings.market_latest_time)
