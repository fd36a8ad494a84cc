"""The simulated venue: order lifecycle and fills against bars, quotes and trades.

Fill rules (documented in docs/backtesting.md):
- On a bar, an order active by the bar's open fills like this: market at the open;
  limit if the bar reaches the limit (at the open when it gaps through, else at the
  limit); stop when the bar reaches the stop (at the open on a gap, else at the stop);
  stop-limit once triggered, like a limit. The fill time is the bar's open.
- On a quote, market orders cross the spread (buy at the ask, sell at the bid); a limit
  fills at its price once the opposite side touches or crosses it; stops trigger on the
  opposite side too.
- On a trade print, resting limits fill at their price when the print touches or goes
  through them, and stops trigger on the print price.
- At most ``participation`` x bar volume fills per bar (partial fills); IOC orders keep
  what fills at the first chance and cancel the rest, FOK orders fill whole or cancel;
  DAY orders expire when the UTC date changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from cift.backtest.config import BacktestConfig
from cift.backtest.portfolio import Portfolio
from cift.model.orders import Fill, Order, OrderSide, OrderStatus, OrderType, TimeInForce

NS_PER_DAY = 86_400_000_000_000
AT_TARGET = "already at target"
NO_CASH = "insufficient buying power"
OrderHook = Callable[[Order], None]
FillHook = Callable[[Fill], None]


class Venue:
    """Matches a strategy's orders against market data for one portfolio."""

    def __init__(
        self,
        config: BacktestConfig,
        portfolio: Portfolio,
        on_order: OrderHook,
        on_fill: FillHook,
    ) -> None:
        self.config = config
        self.portfolio = portfolio
        self.on_order = on_order
        self.on_fill = on_fill
        self.orders: dict[int, Order] = {}
        self.working: list[list[Order]] = [[] for _ in portfolio.symbols]
        self.fills: list[Fill] = []

    def submit(self, order: Order, now_ns: int) -> Order:
        if order.symbol not in self.portfolio.index:
            order.status = OrderStatus.REJECTED
            order.reason = f"no data for {order.symbol!r} in this backtest"
            self.on_order(order)
            return order
        order.created_ns = now_ns
        order.active_ns = now_ns + self.config.latency_ns
        order.status = OrderStatus.PENDING
        self.orders[order.id] = order
        self.working[self.portfolio.index[order.symbol]].append(order)
        self.on_order(order)
        return order

    def cancel(self, order_id: int, reason: str = "cancelled") -> None:
        order = self.orders.get(order_id)
        if order is None or not order.status.is_open:
            return
        self._finish(order, OrderStatus.CANCELLED, reason)

    def _finish(self, order: Order, status: OrderStatus, reason: str = "") -> None:
        order.status = status
        order.reason = reason
        book = self.working[self.portfolio.index[order.symbol]]
        if order in book:
            book.remove(order)
        self.on_order(order)

    def _eligible(self, order: Order, at_ns: int) -> bool:
        """Active by ``at_ns``, its parent filled, and not expired."""
        if order.active_ns > at_ns:
            return False
        if order.parent_id is not None:
            parent = self.orders[order.parent_id]
            if parent.status is not OrderStatus.FILLED:
                if not parent.status.is_open:
                    self._finish(order, OrderStatus.CANCELLED, "parent order did not fill")
                return False
        if order.tif is TimeInForce.DAY and at_ns // NS_PER_DAY > order.created_ns // NS_PER_DAY:
            self._finish(order, OrderStatus.EXPIRED, "day order at the end of its day")
            return False
        if order.status is OrderStatus.PENDING:
            order.status = OrderStatus.WORKING
        return True

    # Bars

    def on_bar(
        self,
        symbol: int,
        ts_ns: int,
        o: float,
        h: float,
        low: float,
        c: float,
        volume: float,
        now: int,
    ) -> None:
        book = self.working[symbol]
        if not book:
            return
        capacity = (
            math.inf if self.config.participation is None else self.config.participation * volume
        )
        bar_range = (h - low) / c if c else 0.0
        for order in list(book):
            if not order.status.is_open or not self._eligible(order, ts_ns):
                continue
            price = _bar_price(order, o, h, low)
            if price is None:
                self._unfilled(order)
                continue
            capacity -= self._execute(order, symbol, price, ts_ns, capacity, volume, bar_range, now)

    # Quotes and trades

    def on_quote(self, symbol: int, ts_ns: int, bid: float, ask: float) -> None:
        for order in list(self.working[symbol]):
            if not order.status.is_open or not self._eligible(order, ts_ns):
                continue
            price = _quote_price(order, bid, ask)
            if price is None:
                self._unfilled(order)
                continue
            self._execute(order, symbol, price, ts_ns, math.inf, math.nan, 0.0, ts_ns)

    def on_trade(self, symbol: int, ts_ns: int, price: float) -> None:
        for order in list(self.working[symbol]):
            if not order.status.is_open or order.type is OrderType.MARKET:
                continue
            if not self._eligible(order, ts_ns):
                continue
            fill = _trade_price(order, price)
            if fill is None:
                self._unfilled(order)
                continue
            self._execute(order, symbol, fill, ts_ns, math.inf, math.nan, 0.0, ts_ns)

    def _unfilled(self, order: Order) -> None:
        if order.tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._finish(order, OrderStatus.CANCELLED, f"{order.tif.value} found no fill")

    # Execution

    def _execute(
        self,
        order: Order,
        symbol: int,
        price: float,
        ts_ns: int,
        capacity: float,
        volume: float,
        bar_range: float,
        now: int,
    ) -> float:
        """Fill what the order, the capacity and the account allow (``symbol``: the
        order's symbol index); returns the quantity."""
        side = int(order.side)
        if order.target_fraction is not None:
            side, wanted = self._target(order, symbol, price)
        else:
            wanted = order.remaining
        quantity = min(wanted, capacity)
        if order.tif is TimeInForce.FOK and quantity < wanted:
            self._finish(order, OrderStatus.CANCELLED, "fill-or-kill could not fill whole")
            return 0.0
        fill_price = self.config.slippage.adjust(side, price, quantity, volume, bar_range)
        quantity = self._affordable(symbol, side, quantity, fill_price)
        if not self.config.fractional:
            quantity = math.floor(quantity + 1e-9)
        if quantity <= 0:
            if order.target_fraction is not None and wanted <= 0:
                self._finish(order, OrderStatus.FILLED, AT_TARGET)
            else:
                self._finish(order, OrderStatus.REJECTED, NO_CASH)
            return 0.0
        self._book(order, symbol, side, quantity, fill_price, ts_ns, now)
        if order.tif is TimeInForce.IOC and order.status.is_open:
            self._finish(order, OrderStatus.CANCELLED, "immediate-or-cancel remainder")
        return quantity

    def _target(self, order: Order, symbol: int, price: float) -> tuple[int, float]:
        """Side and quantity that bring the position to the order's equity fraction."""
        held = self.portfolio.quantity[symbol]
        target = (order.target_fraction or 0.0) * self.portfolio.equity_at(symbol, price) / price
        change = target - held
        side = 1 if change >= 0 else -1
        order.side = OrderSide.BUY if side > 0 else OrderSide.SELL
        order.quantity = abs(change)
        return side, abs(change)

    def _affordable(self, symbol: int, side: int, quantity: float, price: float) -> float:
        """Cut ``quantity`` to what the account can pay for (costs included)."""
        portfolio = self.portfolio
        held = portfolio.quantity[symbol]
        if self.config.account == "cash":
            if side < 0:
                return min(quantity, max(held, 0.0))  # no short selling in a cash account
            return self._within(quantity, price, portfolio.cash)
        if side * held < 0:
            return quantity  # reducing a position frees margin
        room = self.config.leverage * portfolio.equity - portfolio.gross_exposure
        return self._within(quantity, price, max(room, 0.0))

    def _within(self, quantity: float, price: float, budget: float) -> float:
        return affordable(self.config, quantity, price, budget, self.portfolio.traded_volume)

    def _book(
        self,
        order: Order,
        symbol: int,
        side: int,
        quantity: float,
        price: float,
        ts_ns: int,
        now: int,
    ) -> None:
        commission = self.config.commission.cost(quantity, price, self.portfolio.traded_volume)
        self.portfolio.apply_fill(symbol, side, quantity, price, commission, ts_ns, now)
        order.average_price = (order.average_price * order.filled + price * quantity) / (
            order.filled + quantity
        )
        order.filled += quantity
        order.commission += commission
        fill = Fill(
            order.id, order.symbol, order.side, quantity, price, commission, ts_ns, order.tag
        )
        self.fills.append(fill)
        self.on_fill(fill)
        if order.remaining <= 1e-12 or order.target_fraction is not None:
            self._finish(order, OrderStatus.FILLED)
            self._cancel_siblings(order)
        else:
            order.status = OrderStatus.PARTIALLY_FILLED
            self.on_order(order)

    def _cancel_siblings(self, order: Order) -> None:
        if order.oco_group is None:
            return
        for other in list(self.orders.values()):
            if other.oco_group == order.oco_group and other.id != order.id:
                self.cancel(other.id, "the other order of its one-cancels-other group filled")


def affordable(
    config: BacktestConfig, quantity: float, price: float, budget: float, traded: float = 0.0
) -> float:
    """The largest quantity up to ``quantity`` whose cost at ``price``, commission
    included, fits ``budget`` (whole units unless ``config.fractional``); ``traded``: the
    volume traded before, for tiered commissions."""
    fee = config.commission.cost
    if quantity * price + fee(quantity, price, traded) <= budget:
        return quantity
    # Fixed point of q = (budget - fee(q)) / price: exact for proportional fees.
    most = budget / price
    for _ in range(50):
        following = max((budget - fee(most, price, traded)) / price, 0.0)
        if abs(following - most) <= 1e-12 * max(most, 1.0):
            most = following
            break
        most = following
    if not config.fractional:
        most = math.floor(most + 1e-9)
        while most > 0 and most * price + fee(most, price, traded) > budget:
            most -= 1
    while most > 0 and most * price + fee(most, price, traded) > budget:
        most *= 1 - 1e-12
    return min(most, quantity)


def target_change(
    config: BacktestConfig,
    fraction: float,
    equity: float,
    price: float,
    held: float,
    budget: float,
    traded: float = 0.0,
) -> tuple[float, str]:
    """The signed quantity that takes a position of ``held`` to ``fraction`` of
    ``equity`` at ``price``, as ``order_target_percent`` sizes it when decided: a buy is
    cut to what ``budget`` pays for, commission included; a cash account sells what it
    holds; whole units unless fractional. With nothing to trade, why: already at the
    target, or no cash for one unit."""
    change = fraction * equity / price - held
    if change > 0:
        wanted = change
        change = affordable(config, change, price, budget, traded)
        if not config.fractional:
            change = math.floor(change + 1e-9)
        if change <= 0 and wanted >= (1.0 if not config.fractional else 1e-9):
            return 0.0, NO_CASH
    elif config.account == "cash":
        change = -min(-change, max(held, 0.0))
    if not config.fractional:
        change = math.copysign(math.floor(abs(change) + 1e-9), change)
    return change, AT_TARGET if change == 0 else ""


def _bar_price(order: Order, o: float, h: float, low: float) -> float | None:
    buy = order.side > 0
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
        stop = order.stop_price or 0.0
        if not ((buy and h >= stop) or (not buy and low <= stop)):
            return None
        order.triggered = True
        gapped = o >= stop if buy else o <= stop
        if order.type is OrderType.STOP:
            return o if gapped else stop
        if not gapped:
            # Triggered inside the bar: the path after the trigger is unknown, so the
            # limit fills now only if the stop price itself satisfies it.
            limit = order.limit_price or 0.0
            return stop if (stop <= limit if buy else stop >= limit) else None
    if order.type is OrderType.MARKET or (order.type is OrderType.STOP and order.triggered):
        return o
    limit = order.limit_price or 0.0
    if buy:
        return o if o <= limit else (limit if low <= limit else None)
    return o if o >= limit else (limit if h >= limit else None)


def _quote_price(order: Order, bid: float, ask: float) -> float | None:
    buy = order.side > 0
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
        stop = order.stop_price or 0.0
        if (buy and ask >= stop) or (not buy and bid <= stop):
            order.triggered = True
        else:
            return None
    if order.type in (OrderType.MARKET, OrderType.STOP):
        return ask if buy else bid
    limit = order.limit_price or 0.0
    if buy:
        return limit if ask <= limit else None
    return limit if bid >= limit else None


def _trade_price(order: Order, price: float) -> float | None:
    buy = order.side > 0
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
        stop = order.stop_price or 0.0
        if (buy and price >= stop) or (not buy and price <= stop):
            order.triggered = True
            if order.type is OrderType.STOP:
                return price
        return None
    if order.type is OrderType.STOP:
        return price
    limit = order.limit_price or 0.0
    if buy:
        return limit if price <= limit else None
    return limit if price >= limit else None
