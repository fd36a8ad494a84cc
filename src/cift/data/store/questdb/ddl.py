"""QuestDB tables of the market-data store: names, column types and ``CREATE TABLE``.

Every table has a nanosecond designated timestamp ``ts`` (``TIMESTAMP_NS``, QuestDB 9.1+),
is a WAL table, and deduplicates on the model's key columns (``DEDUP UPSERT KEYS``) so
re-sending rows leaves one copy. Ticks are partitioned by day; bars and feature values by
month (intraday) or year, so partitions hold many rows each.

Tables: ``cift_trades``, ``cift_quotes``, ``cift_bars_<timeframe>`` (``cift_bars_1m``) and
``cift_features_<digest>`` for a feature set, whose rows carry its id in ``set_id``. The
``cift_`` prefix is a setting (``CIFT_QUESTDB_TABLE_PREFIX``), so several CIFT installations
(or test runs) can share one server without seeing each other's tables.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import polars as pl

from cift.core.errors import ValidationError
from cift.data.store.base import FEATURE_KEYS
from cift.model import KEY_COLUMNS, DataKind, Timeframe

DEFAULT_PREFIX = "cift_"
PREFIX_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

SET_ID = "set_id"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,126}$")

COLUMN_TYPES: dict[DataKind, dict[str, str]] = {
    DataKind.TRADES: {
        "symbol": "SYMBOL",
        "ts": "TIMESTAMP_NS",
        "price": "DOUBLE",
        "size": "DOUBLE",
        "side": "BYTE",
        "trade_id": "VARCHAR",
        "exchange": "SYMBOL",
        "conditions": "VARCHAR",
    },
    DataKind.QUOTES: {
        "symbol": "SYMBOL",
        "ts": "TIMESTAMP_NS",
        "bid": "DOUBLE",
        "ask": "DOUBLE",
        "bid_size": "DOUBLE",
        "ask_size": "DOUBLE",
    },
    DataKind.BARS: {
        "symbol": "SYMBOL",
        "ts": "TIMESTAMP_NS",
        "open": "DOUBLE",
        "high": "DOUBLE",
        "low": "DOUBLE",
        "close": "DOUBLE",
        "volume": "DOUBLE",
        "vwap": "DOUBLE",
        "trades": "LONG",
    },
}
"""QuestDB column type of every model column (same names, same order as ``cift.model``)."""

SYMBOL_COLUMNS: dict[DataKind, tuple[str, ...]] = {
    DataKind.TRADES: ("symbol", "exchange"),
    DataKind.QUOTES: ("symbol",),
    DataKind.BARS: ("symbol",),
}
"""Columns sent as ILP symbols (interned strings); other strings go as VARCHAR fields."""

PARTITION_FORMATS = {"DAY": "%Y-%m-%d", "MONTH": "%Y-%m", "YEAR": "%Y"}


@dataclass(frozen=True)
class Table:
    """One QuestDB table: its name, columns in order, dedup keys and partitioning."""

    name: str
    columns: dict[str, str]
    keys: tuple[str, ...]
    partition_by: str
    symbols: tuple[str, ...]

    def create_sql(self) -> str:
        """``CREATE TABLE IF NOT EXISTS`` with designated timestamp, WAL and dedup keys."""
        columns = ",\n    ".join(f"{quote(n)} {t}" for n, t in self.columns.items())
        keys = ", ".join(quote(k) for k in ("ts", *(k for k in self.keys if k != "ts")))
        return (
            f"CREATE TABLE IF NOT EXISTS {quote(self.name)} (\n    {columns}\n) "
            f'TIMESTAMP("ts") PARTITION BY {self.partition_by} WAL\n'
            f"DEDUP UPSERT KEYS({keys})"
        )


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (names come from this module, never from users)."""
    if not _IDENTIFIER.match(identifier):
        raise ValidationError(
            f"{identifier!r} cannot be a QuestDB table or column name; use letters, digits "
            "and underscores, starting with a letter."
        )
    return f'"{identifier}"'


@dataclass(frozen=True)
class TableNames:
    """The tables of one CIFT installation on a server: every name starts with ``prefix``."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not re.match(PREFIX_PATTERN, self.prefix):
            raise ValidationError(
                f"QuestDB table prefix {self.prefix!r} must be 1-40 lower-case letters, digits "
                "or underscores, starting with a letter (e.g. cift_)."
            )

    @property
    def bars_prefix(self) -> str:
        return f"{self.prefix}bars_"

    @property
    def features_prefix(self) -> str:
        return f"{self.prefix}features_"

    def market(self, kind: DataKind, timeframe: Timeframe | None) -> Table:
        """The table of trades, quotes, or bars of one timeframe."""
        if kind is DataKind.BARS:
            if timeframe is None:
                raise ValidationError(f"Bars need a timeframe, e.g. {Timeframe.EXAMPLES}.")
            name = f"{self.bars_prefix}{timeframe}"
            hourly = timeframe.nanos >= 3_600 * 10**9
            partition_by = "YEAR" if hourly else "MONTH"
        else:
            if timeframe is not None:
                raise ValidationError(
                    f"{kind.value.capitalize()} have no timeframe; drop '{timeframe}'."
                )
            name, partition_by = f"{self.prefix}{kind.value}", "DAY"
        return Table(
            name=name,
            columns=dict(COLUMN_TYPES[kind]),
            keys=KEY_COLUMNS[kind],
            partition_by=partition_by,
            symbols=SYMBOL_COLUMNS[kind],
        )

    def split(self, name: str) -> tuple[DataKind, Timeframe | None] | None:
        """Inverse of :meth:`market`: the kind and timeframe of one of our market tables."""
        if name.startswith(self.bars_prefix):
            try:
                return DataKind.BARS, Timeframe.parse(name.removeprefix(self.bars_prefix))
            except ValidationError:
                return None
        for kind in (DataKind.TRADES, DataKind.QUOTES):
            if name == f"{self.prefix}{kind.value}":
                return kind, None
        return None

    def is_features(self, name: str) -> bool:
        return name.startswith(self.features_prefix)

    def features_name(self, set_id: str) -> str:
        """A table name for a feature set: QuestDB names are case-insensitive and refuse
        some characters, so the set id lives in the ``set_id`` column and the name is a
        digest."""
        if not set_id or not set_id.isprintable():
            raise ValidationError(f"Feature set id {set_id!r} is empty or not printable.")
        return f"{self.features_prefix}{hashlib.sha256(set_id.encode()).hexdigest()[:20]}"

    def features(self, set_id: str, schema: pl.Schema) -> Table:
        """The table of one feature set, typed from the frame of its values."""
        return Table(
            name=self.features_name(set_id),
            columns=feature_columns(schema),
            keys=FEATURE_KEYS,
            partition_by="MONTH",
            symbols=("symbol", SET_ID),
        )


_FEATURE_TYPES: dict[type[pl.DataType], str] = {
    pl.Float64: "DOUBLE",
    pl.Float32: "DOUBLE",
    pl.Int64: "LONG",
    pl.Int32: "LONG",
    pl.Int16: "LONG",
    pl.Int8: "LONG",
    pl.UInt32: "LONG",
    pl.UInt16: "LONG",
    pl.UInt8: "LONG",
    pl.Boolean: "BOOLEAN",
    pl.String: "VARCHAR",
}
WIRE_DTYPES = {
    "DOUBLE": pl.Float64(),
    "LONG": pl.Int64(),
    "BOOLEAN": pl.Boolean(),
    "VARCHAR": pl.String(),
    "SYMBOL": pl.String(),
    "BYTE": pl.Int8(),
}
"""Polars dtype of each QuestDB column type as read back over the PostgreSQL wire."""


def feature_columns(schema: pl.Schema) -> dict[str, str]:
    """QuestDB column types of a feature set's table, from the frame of its values."""
    columns = {"symbol": "SYMBOL", "ts": "TIMESTAMP_NS", SET_ID: "SYMBOL"}
    seen = {name.lower() for name in columns}
    for name, dtype in schema.items():
        if name in FEATURE_KEYS:
            continue
        if name.lower() in seen:
            raise ValidationError(
                f"Feature column {name!r} clashes with another column (QuestDB names are "
                "case-insensitive; 'set_id' is reserved); rename it with an alias."
            )
        column_type = _FEATURE_TYPES.get(dtype.base_type())
        if column_type is None:
            raise ValidationError(
                f"Feature column {name!r} has dtype {dtype}; QuestDB stores numbers, "
                "booleans and strings."
            )
        quote(name)
        columns[name] = column_type
        seen.add(name.lower())
    return columns
