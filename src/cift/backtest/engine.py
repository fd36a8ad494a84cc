"""The event-driven backtest engine: one simulated clock, one venue, one portfolio.

The loop walks the event stream; for each event it lets the venue match working orders
against it, marks the portfolio, and calls the strategy's hook. Equity is recorded once
per timestamp, after every event at that time. Same data, config and strategy give the
same result, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from cift.backtest import events as ev
from cift.backtest.config import BacktestConfig
from cift.backtest.context import BacktestContext
from cift.backtest.cursor import BarCursor
from cift.backtest.curve import equity_curve, event_prices
from cift.backtest.portfolio import Portfolio
from cift.backtest.telemetry import BARS, DURATION
from cift.backtest.venue import Venue
from cift.core.heap import settled
from cift.core.tracing import span
from cift.model import Timeframe
from cift.model.orders import Fill, Order
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarValues, QuoteView, TradeView

if TYPE_CHECKING:
    from cift.core.settings import Settings

Progress = Callable[[float], None]
CHUNK = 65_536
"""Events turned into Python lists at a time: fast scalar access, bounded memory."""


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
    settings: Settings | None = None,
) -> BacktestResult:
    """Run a strategy over market data and return its equity, orders, fills and trades
    (``settings``: where models live, for strategies that load one)."""
    config = config or BacktestConfig()
    stream = ev.build(bars, timeframe, quotes, trades, config.calendar)
    portfolio = Portfolio(stream.symbols, config.initial_cash, config.borrow_rate)
    orders: list[Order] = []
    ctx = BacktestContext(stream, portfolio, settings)
    strategy = strategy_cls(ctx, params)
    venue = Venue(config, portfolio, strategy.on_order, strategy.on_fill)
    overridden = strategy_cls.derived is not Strategy.derived
    ctx.attach(venue, strategy.features(), orders, strategy.derived if overridden else None)
    attributes = {"cift.strategy": strategy_cls.name, "cift.events": len(stream)}
    priced = event_prices(stream)
    with span("backtest run", attributes), DURATION.time(), settled():
        _run(stream, priced[1], ctx, venue, portfolio, strategy, progress)
    BARS.inc(len(stream))
    log = (portfolio.cash_log, portfolio.position_log)
    equity = equity_curve(stream, priced, config.initial_cash, *log)
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
    prices: np.ndarray,
    ctx: BacktestContext,
    venue: Venue,
    portfolio: Portfolio,
    strategy: Strategy,
    progress: Progress | None,
) -> None:
    strategy.on_start()
    total = len(stream)
    timed = type(strategy).on_time is not Strategy.on_time
    fast = stream.quotes is None and stream.trades is None and not portfolio.borrow_rate
    for start in range(0, total, CHUNK):
        end = min(start + CHUNK, total)
        if fast and not timed:
            _bars_only(stream, start, end, ctx, venue, strategy)
        else:
            _mixed(stream, prices, start, end, ctx, venue, portfolio, strategy, timed)
        if progress is not None:
            progress(end / total)
    if timed and total:
        strategy.on_time(int(stream.time[-1]))
    strategy.on_stop()


def _bars_only(
    stream: ev.EventStream,
    start: int,
    end: int,
    ctx: BacktestContext,
    venue: Venue,
    strategy: Strategy,
) -> None:
    """The hot loop when only bars are traded: flat arrays read in event order, no
    per-event dispatch, and a bar that reads them where the loop is."""
    bars = stream.bars
    assert bars is not None
    rows = stream.row[start:end]
    o, h, low, c, v = (
        ev.doubles(bars.values[f][rows]) for f in ("open", "high", "low", "close", "volume")
    )
    symbols, ts = ev.longs(bars.symbol[rows]), ev.longs(bars.ts[rows])
    working, on_bar, marks = venue.working, strategy.on_bar, ctx.portfolio.marks
    last_bar_row = ctx.last_rows(ev.BAR)
    ctx.gather(ev.BAR, rows)
    bar = BarCursor(stream.symbols, symbols, ts, o, h, low, c, v)
    times = ev.longs(stream.time[start:end])
    for cursor, now, row, symbol, close in zip(
        range(end - start), times, ev.longs(rows), symbols, c, strict=True
    ):
        ctx.now = now
        if working[symbol]:
            venue.on_bar(
                symbol, ts[cursor], o[cursor], h[cursor], low[cursor], close, v[cursor], now
            )
        # ctx.advance(ev.BAR, symbol, row), unrolled: this is the hottest loop.
        last_bar_row[symbol] = row
        ctx.cursor = bar.at = cursor
        ctx.symbol_index, marks[symbol] = symbol, close
        on_bar(bar)


def _mixed(
    stream: ev.EventStream,
    prices: np.ndarray,
    start: int,
    end: int,
    ctx: BacktestContext,
    venue: Venue,
    portfolio: Portfolio,
    strategy: Strategy,
    timed: bool,
) -> None:
    """The loop over bars, quotes and trades together (and over bars when borrowing or
    when the strategy wants ``on_time``); ``prices``: each event's, which marks its
    symbol."""
    b, q, t = stream.bars, stream.quotes, stream.trades
    names, marks = stream.symbols, portfolio.marks
    bar, quote, trade = BarValues(), QuoteView(), TradeView()
    previous = ctx.now
    for i in range(start, end):
        now = int(stream.time[i])
        if now != previous and i:
            if timed:
                strategy.on_time(previous)
            if portfolio.borrow_rate:
                portfolio.accrue_borrow(previous)
        previous = ctx.now = now
        row = int(stream.row[i])
        kind = stream.kind[i]
        if kind == ev.BAR and b is not None:
            symbol = int(b.symbol[row])
            values = b.values
            ts, o, h, low, c, v = (
                int(b.ts[row]),
                float(values["open"][row]),
                float(values["high"][row]),
                float(values["low"][row]),
                float(values["close"][row]),
                float(values["volume"][row]),
            )
            venue.on_bar(symbol, ts, o, h, low, c, v, now)
            ctx.advance(ev.BAR, symbol, row)
            marks[symbol] = float(prices[i])
            bar.symbol, bar.ts_ns, bar.open, bar.high, bar.low, bar.close, bar.volume = (
                names[symbol],
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
            bid, ask = float(q.values["bid"][row]), float(q.values["ask"][row])
            venue.on_quote(symbol, now, bid, ask)
            ctx.advance(ev.QUOTE, symbol, row)
            marks[symbol] = float(prices[i])
            quote.symbol, quote.ts_ns, quote.bid, quote.ask = names[symbol], now, bid, ask
            quote.bid_size = float(q.values["bid_size"][row])
            quote.ask_size = float(q.values["ask_size"][row])
            strategy.on_quote(quote)
        elif t is not None:
            symbol = int(t.symbol[row])
            price = float(t.values["price"][row])
            venue.on_trade(symbol, now, price)
            ctx.advance(ev.TRADE, symbol, row)
            marks[symbol] = float(prices[i])
            trade.symbol, trade.ts_ns, trade.price = names[symbol], now, price
            trade.size, trade.side = float(t.values["size"][row]), int(t.values["side"][row])
            strategy.on_trade(trade)
    if end == len(stream) and portfolio.borrow_rate:
        portfolio.accrue_borrow(previous)


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
