"""The equity curve, computed after the run from the fills and the event prices.

The event loop does no accounting per event; instead the portfolio logs its cash and
each position after every change (at the event time the change was booked). Here every
event's price (bar close, quote mid, trade price) values the position its symbol held
then, and equity at each timestamp is cash plus the sum, over symbols, of their latest
values: vectorised, O(events).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cift.backtest import events as ev

TS = pl.Datetime("ns", "UTC")


def event_prices(stream: ev.EventStream) -> tuple[np.ndarray, np.ndarray]:
    """Each event's symbol index and price."""
    symbols = np.empty(len(stream), dtype=np.int64)
    prices = np.empty(len(stream))
    for code, columns, price in (
        (ev.BAR, stream.bars, "close"),
        (ev.TRADE, stream.trades, "price"),
        (ev.QUOTE, stream.quotes, None),
    ):
        if columns is None:
            continue
        mask = stream.kind == code
        rows = stream.row[mask]
        symbols[mask] = columns.symbol[rows]
        if price is None:
            prices[mask] = (columns.values["bid"][rows] + columns.values["ask"][rows]) / 2.0
        else:
            prices[mask] = columns.values[price][rows]
    return symbols, prices


def equity_curve(
    stream: ev.EventStream,
    initial_cash: float,
    cash_log: list[tuple[int, float]],
    position_log: list[tuple[int, int, float]],
) -> pl.DataFrame:
    """``ts, equity, cash, gross_exposure`` once per event time."""
    symbols, prices = event_prices(stream)
    events = pl.DataFrame({"ts": stream.time, "symbol": symbols, "price": prices})
    times = events.select(pl.col("ts").unique(maintain_order=True))
    cash = _cash(times, initial_cash, cash_log)
    if not position_log:
        return (
            cash.with_columns(pl.col("cash").alias("equity"), pl.lit(0.0).alias("gross_exposure"))
            .select("ts", "equity", "cash", "gross_exposure")
            .with_columns(pl.col("ts").cast(TS))
        )
    positions = (
        pl.DataFrame(
            position_log,
            schema={"ts": pl.Int64, "symbol": pl.Int64, "held": pl.Float64},
            orient="row",
        )
        .unique(["ts", "symbol"], keep="last", maintain_order=True)
        .sort("ts")
    )
    held_symbols = positions.get_column("symbol").unique()
    valued = (
        events.with_row_index("order")
        .filter(pl.col("symbol").is_in(held_symbols.implode()))
        .sort("ts", "order")
        .join_asof(positions, on="ts", by="symbol", strategy="backward", check_sortedness=False)
        .with_columns(pl.col("held").fill_null(0.0))
        .with_columns((pl.col("held") * pl.col("price")).alias("value"))
        .group_by("ts", "symbol", maintain_order=True)
        .agg(pl.col("value").last())
        .with_columns(
            (pl.col("value") - pl.col("value").shift(1).over("symbol").fill_null(0.0)).alias("dv"),
            (
                pl.col("value").abs() - pl.col("value").abs().shift(1).over("symbol").fill_null(0.0)
            ).alias("dg"),
        )
        .group_by("ts", maintain_order=True)
        .agg(pl.col("dv").sum(), pl.col("dg").sum())
    )
    return (
        cash.join(valued, on="ts", how="left")
        .with_columns(pl.col("dv", "dg").fill_null(0.0).cum_sum())
        .select(
            pl.col("ts").cast(TS),
            (pl.col("cash") + pl.col("dv")).alias("equity"),
            "cash",
            pl.col("dg").alias("gross_exposure"),
        )
    )


def _cash(times: pl.DataFrame, initial: float, log: list[tuple[int, float]]) -> pl.DataFrame:
    if not log:
        return times.with_columns(pl.lit(initial, dtype=pl.Float64).alias("cash"))
    changes = (
        pl.DataFrame(log, schema={"ts": pl.Int64, "cash": pl.Float64}, orient="row")
        .unique("ts", keep="last", maintain_order=True)
        .sort("ts")
    )
    return times.join_asof(
        changes, on="ts", strategy="backward", check_sortedness=False
    ).with_columns(pl.col("cash").fill_null(initial))
