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
from cift.core.jit import njit

TS = pl.Datetime("ns", "UTC")


def event_prices(stream: ev.EventStream) -> tuple[np.ndarray, np.ndarray]:
    """Each event's symbol index and price."""
    if stream.quotes is None and stream.trades is None and stream.bars is not None:
        return stream.bars.symbol[stream.row], stream.bars.values["close"][stream.row]
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
    priced: tuple[np.ndarray, np.ndarray],
    initial_cash: float,
    cash_log: list[tuple[int, float]],
    position_log: list[tuple[int, int, float]],
) -> pl.DataFrame:
    """``ts, equity, cash, gross_exposure`` once per event time (``priced``: the
    stream's :func:`event_prices`)."""
    symbols, prices = priced
    cash_at = np.array(cash_log, dtype=np.float64).reshape(-1, 2)
    moves = np.array(position_log, dtype=np.float64).reshape(-1, 3)
    times, equity, cash, gross = _mark(
        np.ascontiguousarray(stream.time, dtype=np.int64),
        symbols,
        prices,
        len(stream.symbols),
        initial_cash,
        np.array([t for t, _ in cash_log], dtype=np.int64),
        np.ascontiguousarray(cash_at[:, 1]),
        np.array([t for t, _, _ in position_log], dtype=np.int64),
        np.ascontiguousarray(moves[:, 1]).astype(np.int64),
        np.ascontiguousarray(moves[:, 2]),
    )
    return pl.DataFrame(
        {
            "ts": pl.Series(times, dtype=pl.Int64).cast(TS),
            "equity": equity,
            "cash": cash,
            "gross_exposure": gross,
        }
    )


@njit
def _mark(
    time: np.ndarray,
    symbol: np.ndarray,
    price: np.ndarray,
    symbols: int,
    initial_cash: float,
    cash_ts: np.ndarray,
    cash_value: np.ndarray,
    move_ts: np.ndarray,
    move_symbol: np.ndarray,
    move_held: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over the events: each event values its symbol's position (as held at its
    time) at its price; equity at a time is the cash then plus every symbol's latest
    value. One row per distinct time, after all of its events."""
    n = time.shape[0]
    held = np.zeros(symbols)
    value = np.zeros(symbols)
    out_ts = np.empty(n, dtype=np.int64)
    out_equity, out_cash, out_gross = np.empty(n), np.empty(n), np.empty(n)
    cash, total, gross = initial_cash, 0.0, 0.0
    c = m = rows = 0
    for i in range(n):
        t = time[i]
        while c < cash_ts.shape[0] and cash_ts[c] <= t:
            cash = cash_value[c]
            c += 1
        while m < move_ts.shape[0] and move_ts[m] <= t:
            held[move_symbol[m]] = move_held[m]
            m += 1
        s = symbol[i]
        worth = held[s] * price[i]
        total += worth - value[s]
        gross += abs(worth) - abs(value[s])
        value[s] = worth
        if i + 1 == n or time[i + 1] != t:
            out_ts[rows], out_cash[rows] = t, cash
            out_equity[rows], out_gross[rows] = cash + total, gross
            rows += 1
    return out_ts[:rows], out_equity[:rows], out_cash[:rows], out_gross[:rows]
