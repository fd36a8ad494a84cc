"""Bars from trades, coarser bars from finer ones, and trades with their prevailing quote.

Polars expressions over lazy frames sorted by ``(symbol, ts)``. Windows are
``[ts, ts + timeframe)`` aligned to the UTC epoch; a window with no input has no bar.
"""

from __future__ import annotations

import polars as pl

from cift.core.errors import ValidationError
from cift.model import DataKind, Timeframe
from cift.model.schemas import conform

QUOTE_FIELDS = ("bid", "ask", "bid_size", "ask_size")


def window_start(timeframe: Timeframe) -> pl.Expr:
    """The open time of the window each ``ts`` falls in."""
    return pl.col("ts").dt.truncate(timeframe.polars)


def weighted_mean(value: pl.Expr, weight: pl.Expr) -> pl.Expr:
    """``sum(value * weight) / sum(weight)`` over rows where value is known; null if no weight."""
    known = value.is_not_null()
    total = weight.filter(known).sum()
    return pl.when(total > 0).then((value * weight).filter(known).sum() / total)


def trades_to_bars(trades: pl.LazyFrame, timeframe: Timeframe) -> pl.LazyFrame:
    """OHLC, volume, size-weighted price and trade count of each window."""
    price, size = pl.col("price"), pl.col("size")
    bars = (
        trades.group_by("symbol", window_start(timeframe).alias("ts"))
        .agg(
            price.first().alias("open"),
            price.max().alias("high"),
            price.min().alias("low"),
            price.last().alias("close"),
            size.sum().alias("volume"),
            weighted_mean(price, size).alias("vwap"),
            pl.len().cast(pl.Int64).alias("trades"),
        )
        .sort("symbol", "ts")
    )
    return conform(bars, DataKind.BARS)


def resample_bars(bars: pl.LazyFrame, source: Timeframe, target: Timeframe) -> pl.LazyFrame:
    """Combine finer bars into ``target`` bars (vwap weighted by volume)."""
    if target.nanos <= source.nanos or target.nanos % source.nanos:
        raise ValidationError(
            f"Cannot resample {source} bars to {target}: the target must be a larger whole "
            "multiple of the source (e.g. 1m to 5m, 1m to 1h)."
        )
    trades = pl.col("trades")
    combined = (
        bars.group_by("symbol", window_start(target).alias("ts"))
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
            weighted_mean(pl.col("vwap"), pl.col("volume")).alias("vwap"),
            pl.when(trades.is_not_null().any()).then(trades.sum()).alias("trades"),
        )
        .sort("symbol", "ts")
    )
    return conform(combined, DataKind.BARS)


def with_prevailing_quote(trades: pl.LazyFrame, quotes: pl.LazyFrame) -> pl.LazyFrame:
    """Each trade with the last quote of its symbol at or before it (nulls if none yet)."""
    prevailing = quotes.select("symbol", "ts", *QUOTE_FIELDS)
    return trades.join_asof(
        prevailing, on="ts", by="symbol", strategy="backward", check_sortedness=False
    )
