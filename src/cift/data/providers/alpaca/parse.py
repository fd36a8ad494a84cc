"""Alpaca market data v2 pages -> frames in CIFT's schema.

A page maps each symbol to its rows (``{"trades": {"AAPL": [...], ...}}``); a symbol
without rows in the page is left out, and the map may be empty or null. Times are
RFC 3339 strings with up to nanosecond digits, parsed vectorised straight to int64
nanoseconds (never through Python ``datetime``, which stops at microseconds); a time that
does not parse becomes null, and the store rejects and counts that row. Exchanges
are Alpaca's one-letter codes and conditions its letter codes, joined with commas; trade
ids are integers, kept as text. Alpaca does not say who the aggressor was: ``side`` is 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cift.model import SCHEMAS, DataKind
from cift.model.times import text_to_ts

from ..http import Fetched, HttpClient, malformed, read_page

RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"

ROWS: dict[DataKind, pl.Struct] = {
    DataKind.BARS: pl.Struct(
        {
            "t": pl.String(),
            "o": pl.Float64(),
            "h": pl.Float64(),
            "l": pl.Float64(),
            "c": pl.Float64(),
            "v": pl.Float64(),
            "vw": pl.Float64(),
            "n": pl.Int64(),
        }
    ),
    DataKind.TRADES: pl.Struct(
        {
            "t": pl.String(),
            "p": pl.Float64(),
            "s": pl.Float64(),
            "i": pl.UInt64(),
            "x": pl.String(),
            "c": pl.List(pl.String()),
        }
    ),
    DataKind.QUOTES: pl.Struct(
        {
            "t": pl.String(),
            "bp": pl.Float64(),
            "ap": pl.Float64(),
            "bs": pl.Float64(),
            "as": pl.Float64(),
        }
    ),
}


def _joined(column: str) -> pl.Expr:
    """A list of codes as comma-separated text (null when there are none)."""
    codes = pl.col(column)
    return pl.when(codes.list.len() > 0).then(codes.list.join(","))


COLUMNS: dict[DataKind, dict[str, pl.Expr]] = {
    DataKind.BARS: {
        "open": pl.col("o"),
        "high": pl.col("h"),
        "low": pl.col("l"),
        "close": pl.col("c"),
        "volume": pl.col("v"),
        "vwap": pl.col("vw"),
        "trades": pl.col("n"),
    },
    DataKind.TRADES: {
        "price": pl.col("p"),
        "size": pl.col("s"),
        "side": pl.lit(0, pl.Int8),
        "trade_id": pl.col("i").cast(pl.String),
        "exchange": pl.col("x"),
        "conditions": _joined("c"),
    },
    DataKind.QUOTES: {
        "bid": pl.col("bp"),
        "ask": pl.col("ap"),
        "bid_size": pl.col("bs"),
        "ask_size": pl.col("as"),
    },
}


def page_schema(kind: DataKind, symbols: Sequence[str]) -> pl.Schema:
    """The fields of a page for ``symbols``: the symbol map, the token and a message."""
    row = ROWS[kind]
    return pl.Schema(
        {
            kind.value: pl.Struct({symbol: pl.List(row) for symbol in symbols}),
            "next_page_token": pl.String(),
            "message": pl.String(),
        }
    )


def parse_page(
    client: HttpClient, fetched: Fetched, kind: DataKind, symbols: Sequence[str]
) -> tuple[pl.DataFrame, str | None]:
    """The rows of one page in the kind's schema, and the next page token (None on the last).

    ``symbols`` are the distinct symbols asked for; rows of any other key are ignored.
    Rows come out by symbol (in the page's order, which is by name), then by time.
    """
    page = read_page(client, fetched, page_schema(kind, symbols))
    token, message = page.get_column("next_page_token")[0], page.get_column("message")[0]
    absent = page.get_column(kind.value).null_count() == 1  # (reading the value would copy it)
    if absent and f'"{kind.value}"'.encode() not in fetched.body:
        said = f" ({message})" if message else ""
        raise malformed(client, fetched, f"no {kind.value!r} map in the page{said}")
    field = pl.col(kind.value).struct.field
    parts = [
        page.lazy()
        .select(field(symbol).explode(keep_nulls=False).alias("row"))
        .unnest("row")
        .with_columns(pl.lit(symbol, pl.String).alias("symbol"))
        for symbol in sorted(symbols)
    ]
    schema = SCHEMAS[kind]
    columns = {
        "symbol": pl.col("symbol"),
        "ts": text_to_ts(pl.col("t"), RFC3339),
        **COLUMNS[kind],
    }
    rows = (
        pl.concat(parts)
        .select(*(columns[name].cast(schema[name]).alias(name) for name in schema))
        .collect()
    )
    return rows, token
