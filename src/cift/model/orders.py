"""Orders and fills: the same types in backtests, paper and live trading."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from cift.core.errors import ValidationError


class OrderSide(IntEnum):
    """Direction; the value is the sign of the position change."""

    BUY = 1
    SELL = -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    """How long an order stays working."""

    DAY = "day"  # until the end of the trading day it was placed in
    GTC = "gtc"  # until filled or cancelled
    IOC = "ioc"  # fill what is possible at once, cancel the rest
    FOK = "fok"  # fill all at once or nothing


class OrderStatus(StrEnum):
    PENDING = "pending"  # accepted, not yet active (latency) or waiting for its parent
    WORKING = "working"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in _OPEN


_OPEN = frozenset({OrderStatus.PENDING, OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED})
"""Read by ``is_open`` once per working order and bar: a set lookup, where naming the
members through the class costs a descriptor call each on Python 3.11."""


@dataclass(slots=True)
class Order:
    """An order and its state. Prices are floats in backtests; the ledger stores decimals."""

    id: int
    symbol: str
    side: OrderSide
    quantity: float
    type: OrderType = OrderType.MARKET
    tif: TimeInForce = TimeInForce.GTC
    limit_price: float | None = None
    stop_price: float | None = None
    created_ns: int = 0
    active_ns: int = 0
    status: OrderStatus = OrderStatus.PENDING
    filled: float = 0.0
    average_price: float = 0.0
    commission: float = 0.0
    triggered: bool = False
    parent_id: int | None = None
    oco_group: int | None = None
    tag: str = ""
    reason: str = ""
    target_fraction: float | None = field(default=None, repr=False)

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    def check(self) -> None:
        """Refuse orders that make no sense, with a message saying why."""
        if self.quantity <= 0 and self.target_fraction is None:
            raise ValidationError(f"Order quantity must be positive, got {self.quantity}.")
        needs_limit = self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit and (self.limit_price is None or self.limit_price <= 0):
            raise ValidationError(f"A {self.type.value} order needs a positive limit price.")
        if needs_stop and (self.stop_price is None or self.stop_price <= 0):
            raise ValidationError(f"A {self.type.value} order needs a positive stop price.")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order."""

    order_id: int
    symbol: str
    side: OrderSide
    quantity: float
    price: float
    commission: float
    ts_ns: int
    tag: str = ""
