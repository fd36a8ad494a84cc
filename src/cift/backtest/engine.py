"""The event-driven backtest engine: one simulated clock, one venue, one portfolio.

The loop walks the event stream; for each event it lets the venue match working orders
against it, marks the portfolio, and calls the strategy's hook. Equity is recorded once
per timestamp, after every event at that time. Same data, config and strategy give the
same result, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from cift.backtest import events as ev
from cift.backtest.config import BacktestConfig
from cift.backtest.context import BacktestContext
from cift.backtest.portfolio import Portfolio
from cift.backtest.venue import Venue
from cift.model import Timeframe
from cift.model.orders import Fill, Order
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView, QuoteView, TradeView

Progress = Callable[[float], None]
PROGRESS_EVERY = 65_536


@dataclass
class BacktestResult:
    """What a run produced."""

    strategy: str
    params: dict[str, Any]
    config: BacktestConfig
    symbols: list[str]
    equity: pl.DataFrame
    fills: pl.DataFrame
    orders: pl.DataFrame
    trades: pl.DataFrame
    events: int
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def final_equity(self) -> float:
        return float(self.equity.get_column("equity")[-1]) if self.equity.height else 0.0


def run_backtest(
    strategy_cls: type[Strategy],
    *,
    bars: pl.DataFrame | None = None,
    timeframe: Timeframe | None = None,
    quotes: pl.DataFrame | None = None,
    trades: pl.DataFrame | None = None,
    params: StrategyParams | None = None,
    config: BacktestConfig | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Run a strategy over market data and return its equity, orders, fills and trades."""
    config = config or BacktestConfig()
    stream = ev.build(bars, timeframe, quotes, trades)
    portfolio = Portfolio(stream.symbols, config.initial_cash, config.borrow_rate)
    orders: list[Order] = []
    ctx = BacktestContext(stream, portfolio)
    strategy = strategy_cls(ctx, params)
    venue = Venue(config, portfolio, strategy.on_order, strategy.on_fill)
    ctx.attach(venue, strategy.features(), orders)
    equity = _run(stream, ctx, venue, portfolio, strategy, progress)
    return BacktestResult(
        strategy=strategy_cls.name,
        params=strategy.params.model_dump(),
        config=config,
        symbols=stream.symbols,
        equity=equity,
        fills=_fills(venue.fills),
        orders=_orders(orders),
        trades=_trades(portfolio),
        events=len(stream),
    )


def _run(
    stream: ev.EventStream,
    ctx: BacktestContext,
    venue: Venue,
    portfolio: Portfolio,
    strategy: Strategy,
    progress: Progress | None,
) -> pl.DataFrame:
    kinds, rows, times = stream.kind, stream.row, stream.time
    symbols = stream.symbols
    bar, quote, trade = BarView(), QuoteView(), TradeView()
    b, q, t = stream.bars, stream.quotes, stream.trades
    last = portfolio.last_price
    out_ts: list[int] = []
    out_values: list[tuple[float, float, float]] = []
    total = len(stream)
    strategy.on_start()
    for i in range(total):
        now = int(times[i])
        if i and now != times[i - 1]:
            _record(portfolio, int(times[i - 1]), out_ts, out_values)
        ctx.now = now
        row = int(rows[i])
        kind = kinds[i]
        if kind == ev.BAR and b is not None:
            symbol = int(b.symbol[row])
            ts, o, h, low, c, v = (
                int(b.ts[row]),
                b.values["open"][row],
                b.values["high"][row],
                b.values["low"][row],
                b.values["close"][row],
                b.values["volume"][row],
            )
            venue.on_bar(symbol, ts, o, h, low, c, v)
            last[symbol] = c
            ctx.advance(ev.BAR, symbol, row)
            bar.symbol, bar.ts_ns, bar.open, bar.high, bar.low, bar.close, bar.volume = (
                symbols[symbol],
                ts,
                o,
                h,
                low,
                c,
                v,
            )
            strategy.on_bar(bar)
        elif kind == ev.QUOTE and q is not None:
            symbol = int(q.symbol[row])
            bid, ask = q.values["bid"][row], q.values["ask"][row]
            venue.on_quote(symbol, now, bid, ask)
            last[symbol] = (bid + ask) / 2.0
            ctx.advance(ev.QUOTE, symbol, row)
            quote.symbol, quote.ts_ns, quote.bid, quote.ask = symbols[symbol], now, bid, ask
            quote.bid_size, quote.ask_size = q.values["bid_size"][row], q.values["ask_size"][row]
            strategy.on_quote(quote)
        elif t is not None:
            symbol = int(t.symbol[row])
            price = t.values["price"][row]
            venue.on_trade(symbol, now, price)
            last[symbol] = price
            ctx.advance(ev.TRADE, symbol, row)
            trade.symbol, trade.ts_ns, trade.price = symbols[symbol], now, price
            trade.size, trade.side = t.values["size"][row], int(t.values["side"][row])
            strategy.on_trade(trade)
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i / total)
    if total:
        _record(portfolio, int(times[-1]), out_ts, out_values)
    strategy.on_stop()
    if progress is not None:
        progress(1.0)
    values = np.array(out_values).reshape(-1, 3)
    return pl.DataFrame(
        {
            "ts": pl.Series(out_ts, dtype=pl.Int64).cast(pl.Datetime("ns", "UTC")),
            "equity": values[:, 0],
            "cash": values[:, 1],
            "gross_exposure": values[:, 2],
        }
    )


def _record(
    portfolio: Portfolio, ts: int, out_ts: list[int], out_values: list[tuple[float, float, float]]
) -> None:
    portfolio.accrue_borrow(ts)
    out_ts.append(ts)
    out_values.append((portfolio.equity, portfolio.cash, portfolio.gross_exposure))


def _fills(fills: list[Fill]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": [f.order_id for f in fills],
            "symbol": [f.symbol for f in fills],
            "side": [int(f.side) for f in fills],
            "quantity": [f.quantity for f in fills],
            "price": [f.price for f in fills],
            "commission": [f.commission for f in fills],
            "ts": pl.Series([f.ts_ns for f in fills], dtype=pl.Int64).cast(
                pl.Datetime("ns", "UTC")
            ),
            "tag": [f.tag for f in fills],
        },
        schema_overrides={
            "quantity": pl.Float64,
            "price": pl.Float64,
            "commission": pl.Float64,
            "side": pl.Int8,
            "order_id": pl.Int64,
        },
    )


def _orders(orders: list[Order]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [o.id for o in orders],
            "symbol": [o.symbol for o in orders],
            "side": [int(o.side) for o in orders],
            "type": [o.type.value for o in orders],
            "tif": [o.tif.value for o in orders],
            "quantity": [o.quantity for o in orders],
            "filled": [o.filled for o in orders],
            "average_price": [o.average_price for o in orders],
            "status": [o.status.value for o in orders],
            "created": pl.Series([o.created_ns for o in orders], dtype=pl.Int64).cast(
                pl.Datetime("ns", "UTC")
            ),
            "tag": [o.tag for o in orders],
            "reason": [o.reason for o in orders],
        },
        schema_overrides={
            "quantity": pl.Float64,
            "filled": pl.Float64,
            "average_price": pl.Float64,
            "id": pl.Int64,
            "side": pl.Int8,
        },
    )


def _trades(portfolio: Portfolio) -> pl.DataFrame:
    trades = portfolio.trades
    ns = pl.Datetime("ns", "UTC")
    return pl.DataFrame(
        {
            "symbol": [t.symbol for t in trades],
            "side": [t.side for t in trades],
            "entry_ts": pl.Series([t.entry_ns for t in trades], dtype=pl.Int64).cast(ns),
            "exit_ts": pl.Series([t.exit_ns for t in trades], dtype=pl.Int64).cast(ns),
            "quantity": [t.quantity for t in trades],
            "entry_price": [t.entry_price for t in trades],
            "exit_price": [t.exit_price for t in trades],
            "pnl": [t.pnl for t in trades],
            "return": [t.ret for t in trades],
            "commission": [t.commission for t in trades],
        },
        schema_overrides={
            "side": pl.Int8,
            "quantity": pl.Float64,
            "entry_price": pl.Float64,
            "exit_price": pl.Float64,
            "pnl": pl.Float64,
            "return": pl.Float64,
            "commission": pl.Float64,
        },
    )
