"""The QuestDB market-data store: ILP/HTTP ingestion, SQL over the PostgreSQL wire.

Writes validate exactly as the embedded store does, skip rows whose key is stored, and
send the rest through the official client; the tables' ``DEDUP UPSERT KEYS`` keep a row
that two writers race to send once. Reads are lazy: the query runs when the frame is
collected. Aggregations run in QuestDB (``SAMPLE BY``, ``ASOF JOIN``, ``LATEST ON``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from cift.core.errors import NotFoundError, ValidationError
from cift.core.timeutil import to_ns
from cift.data.aggregate import QUOTE_FIELDS, trades_to_bars
from cift.data.aggregate import resample_bars as resample_frame
from cift.data.metrics import measured_write, timed_query
from cift.data.store.base import (
    FEATURE_KEYS,
    CompactResult,
    WriteResult,
    check_columns,
    feature_rows,
    quotes_since,
)
from cift.data.store.questdb import maintenance, sql
from cift.data.store.questdb.client import IlpClient, SqlClient, probe_ilp
from cift.data.store.questdb.ddl import SET_ID, WIRE_DTYPES, Table, TableNames
from cift.data.store.questdb.ingest import ilp_frame, unstored_parts, wait_applied
from cift.data.store.questdb.results import coverage_frame, feature_sets_frame, to_frame
from cift.data.store.questdb.sql import Bounds
from cift.model import KEY_COLUMNS, SCHEMAS, TS_DTYPE, DataKind, Timeframe
from cift.model.validation import (
    DEFAULT_TIME_BOUNDS,
    TimeBounds,
    check_symbols,
    validate_parts,
)

JOINED_SCHEMA = pl.Schema({**SCHEMAS[DataKind.TRADES], **{f: pl.Float64() for f in QUOTE_FIELDS}})
PERIODS = {"DAY": "1d", "MONTH": "1mo", "YEAR": "1y"}


class QuestDBStore:
    """Market data in a QuestDB server."""

    backend = "questdb"

    def __init__(
        self,
        client: SqlClient,
        ilp_conf: str,
        names: TableNames | None = None,
        bounds: TimeBounds = DEFAULT_TIME_BOUNDS,
    ) -> None:
        self.client = client
        self.bounds = bounds
        self.ilp_conf = ilp_conf
        self.ilp = IlpClient(ilp_conf)
        self.names = names or TableNames()
        self._known: set[str] = set()

    # tables -------------------------------------------------------------------------

    def tables(self) -> set[str]:
        """Every table the server holds."""
        names = {str(row[0]) for row in self.client.rows(sql.TABLES)}
        self._known = names
        return names

    def has(self, table: Table) -> bool:
        return table.name in self._known or table.name in self.tables()

    def ensure(self, table: Table) -> None:
        """Create the table (designated timestamp, WAL, dedup keys) unless it exists."""
        if table.name not in self._known:
            self.client.execute(table.create_sql())
            self._known.add(table.name)

    # writes -------------------------------------------------------------------------

    @measured_write
    def write(
        self, kind: DataKind, frame: pl.DataFrame, *, timeframe: Timeframe | None = None
    ) -> WriteResult:
        table = self.names.market(kind, timeframe)
        parts, report = validate_parts(frame, kind, by=[pl.col("symbol")], bounds=self.bounds)
        result = WriteResult(kind=kind, report=report, rows_written=0, rows_existing=0)
        if not parts:
            return result
        fresh = self._send_fresh(table, list(parts.values()))
        result.rows_written = sum(part.height for part in fresh)
        result.rows_existing = report.accepted - result.rows_written
        period = pl.col("ts").dt.truncate(PERIODS[table.partition_by])
        result.partitions = sum(part.select(period.n_unique()).item() for part in fresh)
        result.symbols = sorted(str(part.item(0, "symbol")) for part in fresh)
        return result

    def _send_fresh(self, table: Table, parts: list[pl.DataFrame]) -> list[pl.DataFrame]:
        """Send the rows of the parts (one symbol each) whose key is not stored; the
        parts cut to those rows."""
        self.ensure(table)
        wait_applied(self.client, table)
        fresh = unstored_parts(self.client, table, parts)
        if fresh:
            # In time order QuestDB appends; symbol by symbol, every request after the
            # first lands out of order and merges partitions (10M trades: 16 s against 11 s).
            rows = pl.concat(fresh).sort("ts", maintain_order=True)
            self.ilp.send(table.name, ilp_frame(rows, table), table.symbols)
            wait_applied(self.client, table)
        return fresh

    # reads --------------------------------------------------------------------------

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
        table = self.names.market(kind, timeframe)
        schema = SCHEMAS[kind]
        check_columns(kind, columns)
        query = sql.scan(table, bounds := _bounds(symbols, start, end), KEY_COLUMNS[kind])
        frame = self._deferred(table, bounds, query, schema, kind.value)
        return frame.select(columns) if columns is not None else frame

    def _deferred(
        self, table: Table, bounds: Bounds, query: sql.Query, schema: pl.Schema, kind: str
    ) -> pl.LazyFrame:
        """A lazy frame that runs ``query`` when collected (empty if the table is absent)."""

        def fetch() -> pl.DataFrame:
            if bounds.empty or not self.has(table):
                return pl.DataFrame(schema=schema)
            with timed_query(self.backend, kind):
                return to_frame(self.client.rows(query), schema)

        return pl.defer(fetch, schema=schema)

    def coverage(self, kind: DataKind | None = None) -> pl.DataFrame:
        found = []
        for name in self.tables():
            parsed = self.names.split(name)
            if parsed is not None and (kind is None or parsed[0] is kind):
                row_kind, timeframe = parsed
                label = str(timeframe) if timeframe else None
                found.append((f"bars-{label}" if label else row_kind.value, parsed))
        rows = []
        for _, (row_kind, timeframe) in sorted(found, key=lambda item: item[0]):
            table = self.names.market(row_kind, timeframe)
            label = str(timeframe) if timeframe else None
            for symbol, first, last, count in self.client.rows(sql.coverage(table)):
                rows.append((row_kind.value, label, symbol, first, last, count))
        return coverage_frame(rows)

    def latest(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        timeframe: Timeframe | None = None,
    ) -> pl.DataFrame:
        table = self.names.market(kind, timeframe)
        schema, keys = SCHEMAS[kind], list(KEY_COLUMNS[kind])
        chosen = check_symbols(symbols)
        if (chosen is not None and not chosen) or not self.has(table):
            return pl.DataFrame(schema=schema)
        newest = to_frame(self.client.rows(sql.latest(table, chosen)), schema)
        if kind is not DataKind.TRADES or newest.is_empty():
            return newest
        # Trades sharing the newest instant: the last by trade id wins, as in key order.
        epoch = newest.get_column("ts").dt.epoch("ns").to_list()
        pairs = list(zip(newest.get_column("symbol").to_list(), epoch, strict=True))
        tied = to_frame(self.client.rows(sql.at_times(table, pairs, keys)), schema)
        tied = tied.join(newest.select("symbol", "ts"), on=["symbol", "ts"], how="semi")
        return tied.unique("symbol", keep="last", maintain_order=True)  # rows in key order

    def bars_from_trades(
        self,
        timeframe: Timeframe,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        if not sql.samples_natively(timeframe):
            trades = self.read(DataKind.TRADES, symbols=symbols, start=start, end=end)
            return trades_to_bars(trades, timeframe)
        table = self.names.market(DataKind.TRADES, None)
        bounds = _bounds(symbols, start, end)
        query = sql.bars_from_trades(table, timeframe, bounds)
        return self._deferred(table, bounds, query, SCHEMAS[DataKind.BARS], "bars")

    def resample_bars(
        self,
        source: Timeframe,
        target: Timeframe,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        if target.nanos <= source.nanos or target.nanos % source.nanos:
            raise ValidationError(
                f"Cannot resample {source} bars to {target}: the target must be a larger whole "
                "multiple of the source (e.g. 1m to 5m, 1m to 1h)."
            )
        if not sql.samples_natively(target):
            bars = self.read(DataKind.BARS, symbols=symbols, start=start, end=end, timeframe=source)
            return resample_frame(bars, source, target)
        table = self.names.market(DataKind.BARS, source)
        bounds = _bounds(symbols, start, end)
        query = sql.resample_bars(table, target, bounds)
        return self._deferred(table, bounds, query, SCHEMAS[DataKind.BARS], "bars")

    def trades_with_quotes(
        self,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        trades = self.names.market(DataKind.TRADES, None)
        quotes = self.names.market(DataKind.QUOTES, None)
        left = _bounds(symbols, start, end)
        since = quotes_since(start)
        right = _bounds(symbols, since, end)

        def fetch() -> pl.DataFrame:
            if left.empty or not self.has(trades):
                return pl.DataFrame(schema=JOINED_SCHEMA)
            if not self.has(quotes):
                scan = sql.scan(trades, left, trades.keys)
                rows = to_frame(self.client.rows(scan), SCHEMAS[DataKind.TRADES])
                return rows.with_columns(pl.lit(None, pl.Float64).alias(f) for f in QUOTE_FIELDS)
            query = sql.trades_with_quotes(trades, quotes, left, right)
            with timed_query(self.backend, "trades"):
                return to_frame(self.client.rows(query), JOINED_SCHEMA)

        return pl.defer(fetch, schema=JOINED_SCHEMA)

    # maintenance --------------------------------------------------------------------

    def delete(
        self,
        kind: DataKind,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> int:
        table = self.names.market(kind, timeframe)
        bounds = _bounds(symbols, start, end)
        if bounds.empty or not self.has(table):
            return 0
        return maintenance.delete_rows(self.client, table, bounds, self.tables())

    def compact(self, kind: DataKind | None = None) -> CompactResult:
        names = sorted(self.tables())
        chosen = []
        for name in names:
            parsed = self.names.split(name)
            if parsed is not None and (kind is None or parsed[0] is kind):
                chosen.append(self.names.market(*parsed))
            elif kind is None and self.names.is_features(name):
                chosen.append(self._features_table(name))
        return maintenance.compact(self.client, chosen)

    # feature values -----------------------------------------------------------------

    def write_features(self, set_id: str, frame: pl.DataFrame) -> int:
        """Store feature values; rows whose (symbol, ts) is stored are skipped."""
        if frame.is_empty():
            return 0
        rows = feature_rows(frame)
        table = self.names.features(set_id, rows.schema)
        tagged = rows.with_columns(pl.lit(set_id).alias(SET_ID))
        parts = tagged.partition_by("symbol", maintain_order=True)
        return sum(part.height for part in self._send_fresh(table, parts))

    def _features_table(self, name: str) -> Table:
        """A feature set's table as the server describes it."""
        columns = {str(n): str(t).upper() for n, t in self.client.rows(sql.columns_of(name))}
        return Table(name, columns, FEATURE_KEYS, "MONTH", ("symbol", SET_ID))

    def read_features(
        self,
        set_id: str,
        *,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.LazyFrame:
        """Stored values of a feature set, sorted by symbol and time."""
        name = self.names.features_name(set_id)
        if name not in self._known and name not in self.tables():
            raise NotFoundError(f"No stored feature set {set_id!r}; see 'cift features ls'.")
        table = self._features_table(name)
        values = {n: t for n, t in table.columns.items() if n not in (*FEATURE_KEYS, SET_ID)}
        schema = pl.Schema(
            {"symbol": pl.String(), "ts": TS_DTYPE} | {n: WIRE_DTYPES[t] for n, t in values.items()}
        )
        bounds = _bounds(symbols, start, end)
        query = sql.feature_scan(table, list(schema), set_id, bounds)
        return self._deferred(table, bounds, query, schema, "features")

    def feature_sets(self) -> pl.DataFrame:
        """One row per stored feature set and symbol: first and last time, rows."""
        rows = []
        for name in sorted(self.tables()):
            if self.names.is_features(name):
                rows.extend(self.client.rows(sql.feature_coverage(name)))
        return feature_sets_frame(rows)

    # service ------------------------------------------------------------------------

    def ping(self) -> str:
        build = str(self.client.rows(sql.BUILD)[0][0])
        version = build.removeprefix("Build Information: ").split(",")[0]
        protocol = probe_ilp(self.ilp_conf)
        ours = sum(1 for n in self.tables() if self.names.split(n) or self.names.is_features(n))
        prefix = self.names.prefix
        return f"{version} at {self.client.describe()}, ILP v{protocol}, {ours} {prefix}* tables"

    def close(self) -> None:
        self.ilp.close()
        self.client.close()


def _bounds(symbols: Sequence[str] | None, start: datetime | None, end: datetime | None) -> Bounds:
    return Bounds(
        symbols=check_symbols(symbols),
        start=None if start is None else to_ns(start),
        end=None if end is None else to_ns(end),
    )
