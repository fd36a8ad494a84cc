"""Column names and dtypes of trades, quotes and bars.

Time is UTC nanoseconds (``Datetime("ns", "UTC")``); a bar's ``ts`` is its open time and
it covers ``[ts, ts + timeframe)``. ``side`` is +1 when the buyer was the aggressor, -1
when the seller was, 0 when unknown.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

import polars as pl

TS_DTYPE = pl.Datetime("ns", "UTC")


class DataKind(StrEnum):
    """The kinds of market data CIFT stores."""

    TRADES = "trades"
    QUOTES = "quotes"
    BARS = "bars"


class Side(IntEnum):
    """The aggressor of a trade."""

    SELL = -1
    UNKNOWN = 0
    BUY = 1


TRADE_SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "ts": TS_DTYPE,
        "price": pl.Float64(),
        "size": pl.Float64(),
        "side": pl.Int8(),
        "trade_id": pl.String(),
        "exchange": pl.String(),
        "conditions": pl.String(),
    }
)
QUOTE_SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "ts": TS_DTYPE,
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "bid_size": pl.Float64(),
        "ask_size": pl.Float64(),
    }
)
BAR_SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "ts": TS_DTYPE,
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
        "vwap": pl.Float64(),
        "trades": pl.Int64(),
    }
)
SCHEMAS: dict[DataKind, pl.Schema] = {
    DataKind.TRADES: TRADE_SCHEMA,
    DataKind.QUOTES: QUOTE_SCHEMA,
    DataKind.BARS: BAR_SCHEMA,
}
KEY_COLUMNS: dict[DataKind, tuple[str, ...]] = {
    DataKind.TRADES: ("symbol", "ts", "trade_id"),
    DataKind.QUOTES: ("symbol", "ts"),
    DataKind.BARS: ("symbol", "ts"),
}
"""Columns that identify a row: writing a row whose key is stored already adds nothing."""

KEEP_LAST: frozenset[DataKind] = frozenset({DataKind.QUOTES})
"""Kinds where, among rows of one batch sharing a key, the last one wins: several quote
updates stamped with the same instant leave the last as the prevailing quote. Elsewhere
the first row of a key is kept."""

NULLABLE: dict[DataKind, frozenset[str]] = {
    DataKind.TRADES: frozenset({"exchange", "conditions"}),
    DataKind.QUOTES: frozenset({"bid_size", "ask_size"}),  # many FX feeds publish no sizes
    DataKind.BARS: frozenset({"volume", "vwap", "trades"}),  # FX bars often carry no volume
}
"""Columns that may be null; every other column is required."""


def empty_frame(kind: DataKind) -> pl.DataFrame:
    """A frame with no rows and the kind's schema."""
    return pl.DataFrame(schema=SCHEMAS[kind])


def conform(frame: pl.DataFrame | pl.LazyFrame, kind: DataKind) -> pl.LazyFrame:
    """Select and cast the kind's columns in schema order (missing nullable ones as null)."""
    lazy = frame.lazy()
    present = set(lazy.collect_schema().names())
    columns = [
        (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in SCHEMAS[kind].items()
    ]
    return lazy.select(columns)
