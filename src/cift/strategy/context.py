"""What a strategy sees and does: events as views, and the Context of orders and state.

A backtest engine and a live runner each implement the few primitives marked abstract;
every order helper is built on them, so strategy code is the same in both.

Views are reused between events for speed: read their fields in the hook, don't keep
the object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from loguru import logger

from cift.core.errors import ValidationError
from cift.model.orders import Order, OrderSide, OrderType, TimeInForce

if TYPE_CHECKING:
    from cift.core.settings import Settings


class BarView(Protocol):
    """A bar as ``on_bar`` sees it: its symbol, open time and OHLCV. The object is reused
    (or reads the engine's columns at the current bar), so read the fields in the hook."""

    @property
    def symbol(self) -> str: ...
    @property
    def ts_ns(self) -> int: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> float: ...


@dataclass(slots=True)
class BarValues:
    """A :class:`BarView` holding its values: the runtime sets them before each call."""

    symbol: str = ""
    ts_ns: int = 0
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    volume: float = 0.0


@dataclass(slots=True)
class QuoteView:
    symbol: str = ""
    ts_ns: int = 0
    bid: float = 0.0
    ask: float = 0.0
    bid_size: float = 0.0
    ask_size: float = 0.0


@dataclass(slots=True)
class TradeView:
    symbol: str = ""
    ts_ns: int = 0
    price: float = 0.0
    size: float = 0.0
    side: int = 0


class Context(ABC):
    """Orders, positions, the portfolio, history, features and the clock."""

    log = logger
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """Where this process keeps its data and models: read when first asked, as most
        strategies never ask (and a backtest need not load the settings)."""
        if self._settings is None:
            from cift.core.settings import get_settings

            self._settings = get_settings()
        return self._settings

    # Primitives the runtime provides.

    @property
    @abstractmethod
    def now_ns(self) -> int:
        """The simulated (backtest) or wall (live) clock, UTC nanoseconds."""

    @abstractmethod
    def submit(self, order: Order) -> Order:
        """Send an order; returns it with its id and state."""

    @abstractmethod
    def cancel(self, order_id: int) -> None:
        """Cancel a working order (no effect if it is no longer open)."""

    @abstractmethod
    def position(self, symbol: str | None = None) -> float:
        """Signed quantity held (negative when short); the current event's symbol when
        none is named."""

    @property
    @abstractmethod
    def cash(self) -> float: ...

    @property
    @abstractmethod
    def equity(self) -> float: ...

    @abstractmethod
    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still working."""

    @abstractmethod
    def feature(self, name: str, symbol: str | None = None) -> float | None:
        """The current value of a declared feature (for the current event's symbol by
        default); None while it warms up."""

    @abstractmethod
    def history(self, symbol: str, field: str, count: int) -> np.ndarray:
        """The last ``count`` values of a bar field (oldest first, fewer at the start)."""

    @abstractmethod
    def new_order_id(self) -> int: ...

    # Helpers every strategy uses.

    def _order(
        self,
        symbol: str,
        quantity: float,
        kind: OrderType,
        tif: TimeInForce,
        limit: float | None = None,
        stop: float | None = None,
        tag: str = "",
    ) -> Order:
        if quantity == 0:
            raise ValidationError("Order quantity must not be 0; positive buys, negative sells.")
        order = Order(
            id=self.new_order_id(),
            symbol=symbol,
            side=OrderSide.BUY if quantity > 0 else OrderSide.SELL,
            quantity=abs(quantity),
            type=kind,
            tif=tif,
            limit_price=limit,
            stop_price=stop,
            tag=tag,
        )
        order.check()
        return order

    def market(
        self, symbol: str, quantity: float, tif: TimeInForce = TimeInForce.GTC, tag: str = ""
    ) -> Order:
        """Buy (quantity > 0) or sell (< 0) at the market."""
        return self.submit(self._order(symbol, quantity, OrderType.MARKET, tif, tag=tag))

    def limit(
        self,
        symbol: str,
        quantity: float,
        price: float,
        tif: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> Order:
        return self.submit(
            self._order(symbol, quantity, OrderType.LIMIT, tif, limit=price, tag=tag)
        )

    def stop(
        self,
        symbol: str,
        quantity: float,
        price: float,
        tif: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> Order:
        return self.submit(self._order(symbol, quantity, OrderType.STOP, tif, stop=price, tag=tag))

    def stop_limit(
        self,
        symbol: str,
        quantity: float,
        stop: float,
        limit: float,
        tif: TimeInForce = TimeInForce.GTC,
        tag: str = "",
    ) -> Order:
        order = self._order(symbol, quantity, OrderType.STOP_LIMIT, tif, limit, stop, tag)
        return self.submit(order)

    def bracket(
        self,
        symbol: str,
        quantity: float,
        take_profit: float,
        stop_loss: float,
        entry_limit: float | None = None,
    ) -> tuple[Order, Order, Order]:
        """An entry (market, or limit at ``entry_limit``) with a take-profit limit and a
        stop-loss that start working when the entry fills and cancel each other."""
        kind = OrderType.MARKET if entry_limit is None else OrderType.LIMIT
        entry = self.submit(
            self._order(symbol, quantity, kind, TimeInForce.GTC, entry_limit, tag="entry")
        )
        group = entry.id
        profit = self._order(
            symbol,
            -quantity,
            OrderType.LIMIT,
            TimeInForce.GTC,
            limit=take_profit,
            tag="take_profit",
        )
        loss = self._order(
            symbol, -quantity, OrderType.STOP, TimeInForce.GTC, stop=stop_loss, tag="stop_loss"
        )
        for child in (profit, loss):
            child.parent_id = entry.id
            child.oco_group = group
            self.submit(child)
        return entry, profit, loss

    def oco(self, *orders: Order) -> tuple[Order, ...]:
        """Submit orders that cancel each other when any one fills."""
        if len(orders) < 2:
            raise ValidationError("One-cancels-other needs at least two orders.")
        group = self.new_order_id()
        for order in orders:
            order.oco_group = group
            self.submit(order)
        return orders

    def order_target(self, symbol: str, target: float, tag: str = "") -> Order | None:
        """A market order for the difference between the position and ``target``."""
        change = target - self.position(symbol) - self._pending(symbol)
        return self.market(symbol, change, tag=tag) if change else None

    def order_target_percent(self, symbol: str, fraction: float, tag: str = "") -> Order:
        """Reach ``fraction`` of equity in ``symbol`` at the fill: the quantity is sized at
        the fill price, net of costs (1.0 = all in, 0 = flat, negative = short)."""
        order = Order(
            id=self.new_order_id(),
            symbol=symbol,
            side=OrderSide.BUY,
            quantity=0.0,
            target_fraction=fraction,
            tag=tag,
        )
        return self.submit(order)

    def close(self, symbol: str) -> Order | None:
        """Flatten the position."""
        return self.order_target(symbol, 0.0, tag="close")

    def _pending(self, symbol: str) -> float:
        return sum(
            o.side * o.remaining
            for o in self.open_orders(symbol)
            if o.type is OrderType.MARKET and o.target_fraction is None
        )
