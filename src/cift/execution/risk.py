"""Pre-trade risk: every order is checked against its account's limits before it is sent.

Each refusal carries a stable, machine-readable ``code`` (clients switch on it) and a
message that says which limit, by how much, and what to change. The checks read a
:class:`RiskBook`, the account as the ledger has it at that moment (cash, positions,
what open orders will still do, last prices, the day's opening equity).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from cift.execution.accounts import RiskLimits
from cift.execution.requests import OrderRequest

ZERO = Decimal(0)


@dataclass(frozen=True)
class RiskRejection:
    """Why an order was refused: ``code`` for machines, ``message`` for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class RiskBook:
    """The account at the moment of a check (open orders count as if they fill)."""

    cash: Decimal
    positions: dict[str, Decimal] = field(default_factory=dict)
    marks: dict[str, Decimal] = field(default_factory=dict)
    open_quantity: dict[str, Decimal] = field(default_factory=dict)
    """Signed unfilled quantity of open orders, per symbol."""
    reserved_cash: Decimal = ZERO
    """What open buy orders will cost at their limit (or last) price."""
    opening_equity: Decimal | None = None

    def equity(self) -> Decimal | None:
        """Cash plus positions at their last prices (None while a held symbol has none)."""
        total = self.cash
        for symbol, quantity in self.positions.items():
            if quantity:
                mark = self.marks.get(symbol)
                if mark is None:
                    return None
                total += quantity * mark
        return total

    def daily_loss(self) -> Decimal | None:
        """Loss since the day opened, realized and unrealized (positive is a loss)."""
        equity = self.equity()
        if equity is None or self.opening_equity is None:
            return None
        return self.opening_equity - equity


class OrderRate:
    """Order timestamps of one account over the last minute, for the rate limits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._times: deque[float] = deque()
        self._clock = clock

    def counts(self) -> tuple[int, int]:
        """Orders in the last second and in the last minute."""
        now = self._clock()
        while self._times and now - self._times[0] >= 60.0:
            self._times.popleft()
        last_second = sum(1 for t in reversed(self._times) if now - t < 1.0)
        return last_second, len(self._times)

    def record(self) -> None:
        self._times.append(self._clock())


def check(
    request: OrderRequest,
    limits: RiskLimits,
    book: RiskBook,
    rate: OrderRate | None = None,
) -> RiskRejection | None:
    """The first limit ``request`` breaks, or None when it may be sent."""
    for rule in (_symbols, _size, _collar, _exposure, _buying_power, _daily_loss):
        rejection = rule(request, limits, book)
        if rejection is not None:
            return rejection
    if rate is not None:
        return _rate(limits, rate)
    return None


def _symbols(request: OrderRequest, limits: RiskLimits, book: RiskBook) -> RiskRejection | None:
    symbol = request.symbol
    if limits.restricted_symbols and symbol in limits.restricted_symbols:
        return RiskRejection("restricted_symbol", f"{symbol} is on the account's restricted list.")
    if limits.allowed_symbols is not None and symbol not in limits.allowed_symbols:
        return RiskRejection(
            "symbol_not_allowed", f"{symbol} is not among the account's allowed_symbols."
        )
    return None


def _price(request: OrderRequest, book: RiskBook) -> Decimal | None:
    return request.reference_price or book.marks.get(request.symbol)


def _no_price(request: OrderRequest) -> RiskRejection:
    return RiskRejection(
        "no_price",
        f"There is no last price for {request.symbol} to value the order; wait for market "
        "data or send a limit order.",
    )


def _size(request: OrderRequest, limits: RiskLimits, book: RiskBook) -> RiskRejection | None:
    if limits.max_order_quantity is not None and request.quantity > limits.max_order_quantity:
        return RiskRejection(
            "max_order_quantity",
            f"Quantity {request.quantity} is above the limit of {limits.max_order_quantity}.",
        )
    if limits.max_order_value is None:
        return None
    price = _price(request, book)
    if price is None:
        return _no_price(request)
    value = request.quantity * price
    if value > limits.max_order_value:
        return RiskRejection(
            "max_order_value",
            f"The order is worth {value:.2f}, above the limit of {limits.max_order_value}.",
        )
    return None


def _collar(request: OrderRequest, limits: RiskLimits, book: RiskBook) -> RiskRejection | None:
    named = request.reference_price
    mark = book.marks.get(request.symbol)
    if limits.price_collar_bps is None or named is None:
        return None
    if mark is None:
        return _no_price(request)
    away = abs(named - mark) / mark * 10_000
    if away > limits.price_collar_bps:
        return RiskRejection(
            "price_collar",
            f"{named} is {away:.0f} bps from the last price {mark}; the collar allows "
            f"{limits.price_collar_bps} bps.",
        )
    return None


def _exposure(request: OrderRequest, limits: RiskLimits, book: RiskBook) -> RiskRejection | None:
    if limits.max_position_value is None and limits.max_gross_exposure is None:
        return None
    price = _price(request, book)
    if price is None:
        return _no_price(request)
    symbol = request.symbol
    after = (
        book.positions.get(symbol, ZERO)
        + book.open_quantity.get(symbol, ZERO)
        + request.side * request.quantity
    )
    value = abs(after) * price
    if limits.max_position_value is not None and value > limits.max_position_value:
        return RiskRejection(
            "max_position_value",
            f"{symbol} would be worth {value:.2f} with open orders filled, above the limit of "
            f"{limits.max_position_value}.",
        )
    if limits.max_gross_exposure is not None:
        others = ZERO
        for held, quantity in book.positions.items():
            if held != symbol and quantity:
                mark = book.marks.get(held)
                if mark is None:
                    return RiskRejection(
                        "no_price", f"There is no last price for {held} to value the exposure."
                    )
                others += abs(quantity + book.open_quantity.get(held, ZERO)) * mark
        gross = others + value
        if gross > limits.max_gross_exposure:
            return RiskRejection(
                "max_gross_exposure",
                f"Gross exposure would be {gross:.2f}, above the limit of "
                f"{limits.max_gross_exposure}.",
            )
    return None


def _buying_power(
    request: OrderRequest, limits: RiskLimits, book: RiskBook
) -> RiskRejection | None:
    symbol = request.symbol
    if request.side < 0:
        sellable = book.positions.get(symbol, ZERO) + min(
            book.open_quantity.get(symbol, ZERO), ZERO
        )
        if request.quantity > sellable:
            return RiskRejection(
                "short_selling",
                f"Selling {request.quantity} {symbol} needs that much held and not already "
                f"being sold ({max(sellable, ZERO)}); the account is a cash account.",
            )
        return None
    price = _price(request, book)
    if price is None:
        return _no_price(request)
    cost = request.quantity * price
    available = book.cash - book.reserved_cash
    if cost > available:
        return RiskRejection(
            "buying_power",
            f"The order costs {cost:.2f}; the account has {available:.2f} free "
            f"({book.cash:.2f} cash less {book.reserved_cash:.2f} held for open buys).",
        )
    return None


def _daily_loss(request: OrderRequest, limits: RiskLimits, book: RiskBook) -> RiskRejection | None:
    if limits.max_daily_loss is None:
        return None
    held = book.positions.get(request.symbol, ZERO)
    if held * request.side < 0 and request.quantity <= abs(held):
        return None  # reducing a position is how a loss stops growing
    loss = book.daily_loss()
    if loss is not None and loss >= limits.max_daily_loss:
        return RiskRejection(
            "max_daily_loss",
            f"The account has lost {loss:.2f} today, at or past its limit of "
            f"{limits.max_daily_loss}; trading halts until an admin resets the kill switch.",
        )
    return None


def _rate(limits: RiskLimits, rate: OrderRate) -> RiskRejection | None:
    second, minute = rate.counts()
    if limits.max_orders_per_second is not None and second >= limits.max_orders_per_second:
        return RiskRejection(
            "orders_per_second",
            f"{second} orders in the last second; the limit is {limits.max_orders_per_second}.",
        )
    if limits.max_orders_per_minute is not None and minute >= limits.max_orders_per_minute:
        return RiskRejection(
            "orders_per_minute",
            f"{minute} orders in the last minute; the limit is {limits.max_orders_per_minute}.",
        )
    return None
