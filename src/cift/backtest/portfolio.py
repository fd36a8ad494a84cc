"""Portfolio accounting: cash, positions, average prices, round-trip trades, borrow fees.

Positions are kept per symbol index in numpy arrays, so marking to market and equity
are array operations. A trade is a round trip from flat back to flat (a reversal closes
one trade and opens the next); its P&L includes the commissions of its fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NS_PER_YEAR = 365.25 * 86_400 * 1_000_000_000


@dataclass
class OpenTrade:
    side: int
    entry_ns: int
    quantity: float = 0.0
    entry_value: float = 0.0
    exit_quantity: float = 0.0
    exit_value: float = 0.0
    commission: float = 0.0


@dataclass
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
    exact decimals)."""

    symbols: list[str]
    cash: float
    borrow_rate: float = 0.0
    quantity: np.ndarray = field(init=False)
    average_price: np.ndarray = field(init=False)
    last_price: np.ndarray = field(init=False)
    commissions: float = 0.0
    borrow_fees: float = 0.0
    traded_volume: float = 0.0
    trades: list[ClosedTrade] = field(default_factory=list)
    _open: dict[int, OpenTrade] = field(default_factory=dict)
    _last_accrual_ns: int | None = None

    def __post_init__(self) -> None:
        size = len(self.symbols)
        self.quantity = np.zeros(size)
        self.average_price = np.zeros(size)
        self.last_price = np.full(size, np.nan)
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}

    @property
    def positions_value(self) -> float:
        held = self.quantity != 0
        return float(np.dot(self.quantity[held], self.last_price[held]))

    @property
    def gross_exposure(self) -> float:
        held = self.quantity != 0
        return float(np.abs(self.quantity[held] * self.last_price[held]).sum())

    @property
    def equity(self) -> float:
        return self.cash + self.positions_value

    def apply_fill(
        self, symbol: int, side: int, quantity: float, price: float, commission: float, ts_ns: int
    ) -> None:
        """Book a fill: cash, position, average price and the round-trip trade log."""
        self.cash -= side * quantity * price + commission
        self.commissions += commission
        self.traded_volume += quantity
        before = float(self.quantity[symbol])
        after = before + side * quantity
        if before == 0 or (before > 0) == (side > 0):
            total = abs(before) + quantity
            self.average_price[symbol] = (
                abs(before) * self.average_price[symbol] + quantity * price
            ) / total
        elif after == 0 or (after > 0) != (before > 0):
            self.average_price[symbol] = price if after != 0 else 0.0
        self.quantity[symbol] = after
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
            short = self.quantity < 0
            if short.any():
                notional = float(-np.dot(self.quantity[short], self.last_price[short]))
                fee = notional * self.borrow_rate * (ts_ns - self._last_accrual_ns) / NS_PER_YEAR
                self.cash -= fee
                self.borrow_fees += fee
        self._last_accrual_ns = ts_ns
