"""Last prices from the store, for the risk checks of orders placed outside a live session
(the API, the command line): the newest trade, else the newest minute bar's close."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import polars as pl

from cift.data.store.base import MarketStore
from cift.model import DataKind, Timeframe

MINUTE = Timeframe.parse("1m")


def last_prices(store: MarketStore, symbols: Sequence[str]) -> dict[str, Decimal]:
    """Each symbol's newest stored price (symbols with none are left out)."""
    as_of = pl.col("ts").dt.epoch("ns")
    trades = store.latest(DataKind.TRADES, symbols=list(symbols)).select(
        "symbol", as_of, pl.col("price").cast(pl.Float64)
    )
    bars = store.latest(DataKind.BARS, symbols=list(symbols), timeframe=MINUTE).select(
        "symbol", as_of + MINUTE.nanos, pl.col("close").cast(pl.Float64).alias("price")
    )
    newest = pl.concat([trades, bars]).sort("ts").group_by("symbol").agg(pl.col("price").last())
    return {symbol: Decimal(repr(price)) for symbol, price in newest.iter_rows()}
