"""Portfolio accounting: cash, positions, average prices, round-trip trades, borrow fees.

Positions are kept per symbol index. A trade is a round trip from flat back to flat (a
reversal closes one trade and opens the next); its P&L includes the commissions of its
fills.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

NS_PER_YEAR = 365.25 * 86_400 * 1_000_000_000


@dataclass(slots=True)
class OpenTrade:
    side: int
    entry_ns: int
    quantity: float = 0.0
    entry_value: float = 0.0
    exit_quantity: float = 0.0
    exit_value: float = 0.0
    commission: float = 0.0


@dataclass(slots=True)
class ClosedTrade:
    symbol: str
    side: int
    entry_ns: int
    exit_ns: int
    quantity: float
    entry_price: float
    exit_price: float
    pnl: float
    commission: float

    @property
    def ret(self) -> float:
        notional = self.entry_price * self.quantity
        return self.pnl / notional if notional else 0.0


@dataclass
class Portfolio:
    """Cash and positions of one account in a simulation (floats; the live ledger keeps
    exact decimals).

    ``marks`` holds each symbol's latest price (NaN before its first), set by whoever
    feeds market events (the engine, the paper broker): the price of the symbol's latest
    event in stream order, as the equity curve values it. Values are summed from marks
    only when needed (sizing, margin, ``ctx.equity``), so the event loop does no
    accounting. The equity curve is computed after the run (``cift.backtest.curve``) from
    ``cash_log`` (time, cash) and ``position_log`` (time, symbol, quantity), appended at
    every change with the time of the event that booked it.
    """

    symbols: list[str]
    cash: float
    borrow_rate: float = 0.0
    marks: list[float] = field(init=False)
    quantity: list[float] = field(init=False)
    average_price: list[float] = field(init=False)
    held: set[int] = field(default_factory=set)
    cash_log: list[tuple[int, float]] = field(default_factory=list)
    position_log: list[tuple[int, int, float]] = field(default_factory=list)
    commissions: float = 0.0
    borrow_fees: float = 0.0
    traded_volume: float = 0.0
    trades: list[ClosedTrade] = field(default_factory=list)
    _open: dict[int, OpenTrade] = field(default_factory=dict)
    _last_accrual_ns: int | None = None

    def __post_init__(self) -> None:
        size = len(self.symbols)
        self.marks = [math.nan] * size
        self.quantity = [0.0] * size
        self.average_price = [0.0] * size
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}

    @property
    def positions_value(self) -> float:
        quantity, marks = self.quantity, self.marks
        return sum([quantity[i] * marks[i] for i in self.held])

    @property
    def gross_exposure(self) -> float:
        quantity, marks = self.quantity, self.marks
        return sum([abs(quantity[i] * marks[i]) for i in self.held])

    @property
    def equity(self) -> float:
        return self.cash + self.positions_value

    def equity_at(self, symbol: int, price: float) -> float:
        """Equity with ``symbol`` valued at ``price`` (the price a fill would get)."""
        quantity, marks = self.quantity, self.marks
        others = sum([quantity[i] * marks[i] for i in self.held if i != symbol])
        return self.cash + others + quantity[symbol] * price

    @property
    def short(self) -> bool:
        return any(self.quantity[i] < 0 for i in self.held)

    def apply_fill(
        self,
        symbol: int,
        side: int,
        quantity: float,
        price: float,
        commission: float,
        ts_ns: int,
        booked_ns: int,
    ) -> None:
        """Book a fill made at ``ts_ns`` and known at ``booked_ns`` (the event being
        processed): cash, position, average price and the round-trip trade log."""
        self.cash -= side * quantity * price + commission
        self.commissions += commission
        self.traded_volume += quantity
        before = self.quantity[symbol]
        after = before + side * quantity
        if before == 0 or (before > 0) == (side > 0):
            total = abs(before) + quantity
            self.average_price[symbol] = (
                abs(before) * self.average_price[symbol] + quantity * price
            ) / total
        elif after == 0 or (after > 0) != (before > 0):
            self.average_price[symbol] = price if after != 0 else 0.0
        self.quantity[symbol] = after
        if after:
            self.held.add(symbol)
        else:
            self.held.discard(symbol)
        self.cash_log.append((booked_ns, self.cash))
        self.position_log.append((booked_ns, symbol, after))
        self._book_trade(symbol, side, quantity, price, commission, ts_ns, before, after)

    def _book_trade(
        self,
        symbol: int,
        side: int,
        quantity: float,
        price: float,
        commission: float,
        ts_ns: int,
        before: float,
        after: float,
    ) -> None:
        trade = self._open.get(symbol)
        closing = 0.0 if before == 0 or (before > 0) == (side > 0) else min(quantity, abs(before))
        opening = quantity - closing
        if trade is not None and closing:
            share = closing / quantity
            trade.exit_quantity += closing
            trade.exit_value += closing * price
            trade.commission += commission * share
            if after == 0 or (after > 0) != (before > 0):
                self._close(symbol, trade, ts_ns)
            commission *= 1 - share
        if opening:
            trade = self._open.get(symbol) or OpenTrade(side=side, entry_ns=ts_ns)
            self._open[symbol] = trade
            trade.quantity += opening
            trade.entry_value += opening * price
            trade.commission += commission

    def _close(self, symbol: int, trade: OpenTrade, ts_ns: int) -> None:
        entry_price = trade.entry_value / trade.quantity
        exit_price = trade.exit_value / trade.exit_quantity
        gross = trade.side * (exit_price - entry_price) * trade.quantity
        self.trades.append(
            ClosedTrade(
                symbol=self.symbols[symbol],
                side=trade.side,
                entry_ns=trade.entry_ns,
                exit_ns=ts_ns,
                quantity=trade.quantity,
                entry_price=entry_price,
                exit_price=exit_price,
                pnl=gross - trade.commission,
                commission=trade.commission,
            )
        )
        del self._open[symbol]

    def accrue_borrow(self, ts_ns: int) -> None:
        """Charge the annual borrow rate on short positions for the time since last call."""
        if self._last_accrual_ns is not None and self.borrow_rate > 0:
            quantity, marks = self.quantity, self.marks
            notional = -sum([quantity[i] * marks[i] for i in self.held if quantity[i] < 0])
            if notional > 0:
                fee = notional * self.borrow_rate * (ts_ns - self._last_accrual_ns) / NS_PER_YEAR
                self.cash -= fee
                self.borrow_fees += fee
                self.cash_log.append((ts_ns, self.cash))
        self._last_accrual_ns = ts_ns
