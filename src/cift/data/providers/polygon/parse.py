"""Polygon (Massive) REST pages -> frames in CIFT's schema.

Aggregates carry Unix-millisecond open times; v3 trades and quotes carry SIP nanosecond
timestamps (``sip_timestamp``, the time Polygon filters and pages on). Trade exchanges
are Polygon's numeric participant ids and conditions its numeric condition codes
(``/v3/reference/exchanges`` and ``/v3/reference/conditions`` name them); both are kept as
text, conditions joined with commas. Polygon does not say who the aggressor was, so
``side`` is 0. Quote sizes are passed on in the unit the feed reports.
"""

from __future__ import annotations

import polars as pl

from cift.model import SCHEMAS, DataKind
from cift.model.times import epoch_to_ts

from ..http import Fetched, HttpClient, malformed, read_page

OK_STATUSES = frozenset({"OK", "DELAYED"})
NS_PER_MS = 1_000_000

ROWS: dict[DataKind, pl.Struct] = {
    DataKind.BARS: pl.Struct(
        {
            "t": pl.Int64(),
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
            "sip_timestamp": pl.Int64(),
            "price": pl.Float64(),
            "size": pl.Float64(),
            "id": pl.String(),
            "exchange": pl.Int64(),
            "conditions": pl.List(pl.Int64()),
        }
    ),
    DataKind.QUOTES: pl.Struct(
        {
            "sip_timestamp": pl.Int64(),
            "bid_price": pl.Float64(),
            "ask_price": pl.Float64(),
            "bid_size": pl.Float64(),
            "ask_size": pl.Float64(),
        }
    ),
}
PAGES: dict[DataKind, pl.Schema] = {
    kind: pl.Schema(
        {
            "status": pl.String(),
            "results": pl.List(row),
            "next_url": pl.String(),
            "message": pl.String(),
            "error": pl.String(),
        }
    )
    for kind, row in ROWS.items()
}


def _ns(column: str, scale: int = 1) -> pl.Expr:
    return epoch_to_ts(pl.col(column), scale)


def _joined(column: str) -> pl.Expr:
    """A list of codes as comma-separated text (null when there are none)."""
    codes = pl.col(column)
    text = codes.list.eval(pl.element().cast(pl.String)).list.join(",")
    return pl.when(codes.list.len() > 0).then(text)


COLUMNS: dict[DataKind, dict[str, pl.Expr]] = {
    DataKind.BARS: {
        "ts": _ns("t", NS_PER_MS),
        "open": pl.col("o"),
        "high": pl.col("h"),
        "low": pl.col("l"),
        "close": pl.col("c"),
        "volume": pl.col("v"),
        "vwap": pl.col("vw"),
        "trades": pl.col("n"),
    },
    DataKind.TRADES: {
        "ts": _ns("sip_timestamp"),
        "price": pl.col("price"),
        "size": pl.col("size"),
        "side": pl.lit(0, pl.Int8),
        "trade_id": pl.col("id"),
        "exchange": pl.col("exchange").cast(pl.String),
        "conditions": _joined("conditions"),
    },
    DataKind.QUOTES: {
        "ts": _ns("sip_timestamp"),
        "bid": pl.col("bid_price"),
        "ask": pl.col("ask_price"),
        "bid_size": pl.col("bid_size"),
        "ask_size": pl.col("ask_size"),
    },
}


def parse_page(
    client: HttpClient, fetched: Fetched, kind: DataKind, symbol: str
) -> tuple[pl.DataFrame, str | None]:
    """The rows of one page in the kind's schema, and the ``next_url`` (None on the last)."""
    page = read_page(client, fetched, PAGES[kind])
    status, next_url, message, error = (
        page.get_column(name)[0] for name in ("status", "next_url", "message", "error")
    )
    if status not in OK_STATUSES:
        said = message or error or "no message"
        raise malformed(client, fetched, f"status {status!r} ({said}) instead of 'OK'")
    columns = COLUMNS[kind]
    schema = SCHEMAS[kind]
    rows = (
        page.lazy()
        .select(pl.col("results").explode(keep_nulls=False))
        .unnest("results")
        .select(
            pl.lit(symbol, pl.String).alias("symbol"),
            *(columns[name].cast(schema[name]).alias(name) for name in schema if name != "symbol"),
        )
        .collect()
    )
    return rows, next_url
