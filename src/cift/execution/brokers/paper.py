"""The paper broker: the backtest's own venue and cost models, fed live market data.

Orders are matched by :class:`cift.backtest.venue.Venue` with the run's
:class:`~cift.backtest.config.BacktestConfig` (fill rules, latency, commission,
slippage, participation), against the bars, quotes and trades the live runner passes on,
on a simulated account that starts from the ledger's cash and positions. A paper fill is
therefore the fill the backtest would have made on the same data: the two cannot
disagree by construction.

The market clock is the time of the latest event the broker was given; an order sent
before the first one waits for it. The venue lives in this process. After a restart it
holds nothing, so ``find`` answers None and the OMS sends each open order again, under
its client order id, for what remained. Fill ids name the order's cumulative filled
quantity (``<client id>@<qty>``), which a re-sent order carries on from, so no fill is
booked twice or lost.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from cift.backtest.config import BacktestConfig
from cift.backtest.portfolio import Portfolio
from cift.backtest.venue import Venue
from cift.core.timeutil import to_ns
from cift.db.models.ledger import LedgerOrderType, LedgerTimeInForce, OrderState
from cift.execution.brokers.base import (
    BrokerEvent,
    BrokerEventKind,
    BrokerOrder,
    BrokerOrderStatus,
)
from cift.execution.ledger import FillReport
from cift.model.orders import Fill, Order, OrderSide, OrderStatus, OrderType, TimeInForce

_STATES = {
    OrderStatus.PENDING: OrderState.ACCEPTED,
    OrderStatus.WORKING: OrderState.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
    OrderStatus.FILLED: OrderState.FILLED,
    OrderStatus.CANCELLED: OrderState.CANCELED,
    OrderStatus.REJECTED: OrderState.CANCELED,  # refused at the fill, after acceptance
    OrderStatus.EXPIRED: OrderState.EXPIRED,
}


class OrderFields(Protocol):
    """What a sent order (or a ledger row) says of itself."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> int: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def order_type(self) -> LedgerOrderType: ...
    @property
    def time_in_force(self) -> LedgerTimeInForce: ...
    @property
    def limit_price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...


def simulated(order_id: int, order: OrderFields) -> Order:
    """An order as the backtest's venue and contexts handle it (floats)."""
    return Order(
        id=order_id,
        symbol=order.symbol,
        side=OrderSide(order.side),
        quantity=float(order.quantity),
        type=OrderType(order.order_type.value),
        tif=TimeInForce(order.time_in_force.value),
        limit_price=None if order.limit_price is None else float(order.limit_price),
        stop_price=None if order.stop_price is None else float(order.stop_price),
    )


def decimal(value: float) -> Decimal:
    """A float as the shortest decimal that reads back as it."""
    return Decimal(repr(value))


def instant(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


class PaperBroker:
    """Fills orders as the backtest would, on the market data it is given."""

    name = "paper"

    def __init__(
        self,
        symbols: list[str],
        config: BacktestConfig,
        cash: float,
        positions: Mapping[str, float] | None = None,
    ) -> None:
        self.config = config
        self.portfolio = Portfolio(list(symbols), cash)
        for symbol, quantity in (positions or {}).items():
            index = self.portfolio.index.get(symbol)
            if index is not None and quantity:
                self.portfolio.quantity[index] = quantity
                self.portfolio.held.add(index)
        self.venue = Venue(config, self.portfolio, self._on_order, self._on_fill)
        self.now_ns = 0
        self._ids = itertools.count(1)
        self._orders: dict[str, Order] = {}
        self._clients: dict[int, str] = {}
        self._broker_ids: dict[int, str] = {}
        self._submitting = False
        self._replaced: dict[str, str] = {}
        """Old client order id -> the client id of the order that replaced it."""
        self._refused: set[str] = set()
        self._waiting: list[Order] = []
        self._after: dict[str, int] = {}
        """Resumed orders' last fill times (ns): the venue matched them on that event
        already, so what remains waits for a later one."""
        self._base: dict[str, Decimal] = {}
        self._fills: dict[str, list[FillReport]] = {}
        self._events: list[BrokerEvent] = []

    # The broker protocol

    def submit(self, order: BrokerOrder) -> BrokerEvent:
        known = self._orders.get(order.client_order_id)
        if known is not None:
            return self._answer(order.client_order_id, known)
        sim = simulated(next(self._ids), order)
        self._orders[order.client_order_id] = sim
        self._clients[sim.id] = order.client_order_id
        self._broker_ids[sim.id] = f"paper-{uuid.uuid4().hex[:20]}"
        self._base[order.client_order_id] = Decimal(0)
        self._fills[order.client_order_id] = []
        if self.now_ns:
            self._enter(sim)
        else:
            self._waiting.append(sim)
        return self._answer(order.client_order_id, sim)

    def _enter(self, sim: Order, at_ns: int | None = None) -> None:
        """Put an order on the venue at the market's current time (or ``at_ns``)."""
        self._submitting = True
        try:
            self.venue.submit(sim, self.now_ns if at_ns is None else at_ns)
        finally:
            self._submitting = False
        after = self._after.get(self._clients[sim.id])
        if after is not None:  # past the fill's whole microsecond (the ledger's resolution)
            sim.active_ns = max(sim.active_ns, after + 1_000)
        if sim.status is OrderStatus.REJECTED:
            self._refused.add(self._clients[sim.id])

    def resume(
        self,
        order: BrokerOrder,
        filled_before: Decimal,
        sent_at: datetime | None = None,
        filled_at: datetime | None = None,
    ) -> BrokerEvent:
        """Send an order again after a restart: ``filled_before`` was filled already, and
        it works from ``sent_at`` (when first sent), as if the venue had kept it. Its last
        fill (at ``filled_at``) used that bar's one match, so a runner that gives the
        venue that bar again (it crashed before deciding on it) fills nothing more on it."""
        if filled_at is not None:
            self._after[order.client_order_id] = to_ns(filled_at)
        answer = self.submit(order)
        self._base[order.client_order_id] = filled_before
        sim = self._orders[order.client_order_id]
        if sent_at is not None and sim in self._waiting:
            self._waiting.remove(sim)
            self._enter(sim, to_ns(sent_at))
        return answer

    def cancel(self, client_order_id: str) -> None:
        sim = self._orders.get(client_order_id)
        if sim is None or not sim.status.is_open:
            reason = "unknown order" if sim is None else f"the order is {sim.status.value}"
            self._events.append(
                BrokerEvent(
                    BrokerEventKind.CANCEL_REJECTED,
                    client_order_id,
                    instant(self.now_ns),
                    reason=reason,
                )
            )
            return
        self.venue.cancel(sim.id, "canceled on request")

    def replace(self, client_order_id: str, order: BrokerOrder) -> BrokerEvent:
        """Cancel the old order on the venue and enter ``order`` in its place, as one
        step: no fill can come between the two."""
        if order.client_order_id in self._orders:
            return self.submit(order)  # asked before: the answer for that order
        old = self._orders.get(client_order_id)
        if old is None or not old.status.is_open:
            reason = "unknown order" if old is None else f"the order is {old.status.value}"
            at = instant(self.now_ns)
            self._events.append(
                BrokerEvent(BrokerEventKind.REPLACE_REJECTED, client_order_id, at, reason=reason)
            )
            return BrokerEvent(
                BrokerEventKind.REJECTED,
                order.client_order_id,
                at,
                reason=f"not replaced: {reason}",
            )
        self._submitting = True  # the venue's cancel is a replacement here, not news
        try:
            self.venue.cancel(old.id, f"replaced by {order.client_order_id}")
        finally:
            self._submitting = False
        self._replaced[client_order_id] = order.client_order_id
        self._events.append(
            BrokerEvent(
                BrokerEventKind.REPLACED,
                client_order_id,
                instant(self.now_ns),
                self._broker_ids[old.id],
                old.reason,
            )
        )
        return self.submit(order)

    def find(self, client_order_id: str) -> BrokerOrderStatus | None:
        sim = self._orders.get(client_order_id)
        if sim is None:
            return None
        replaced = client_order_id in self._replaced
        return BrokerOrderStatus(
            client_order_id,
            self._broker_ids[sim.id],
            OrderState.REPLACED if replaced else _STATES[sim.status],
            list(self._fills[client_order_id]),
        )

    def events(self) -> list[BrokerEvent]:
        drained, self._events = self._events, []
        return drained

    def close(self) -> None:
        """Nothing to release: the venue lives in memory."""

    # Market data

    def on_bar(
        self,
        symbol: str,
        ts_ns: int,
        close_ns: int,
        ohlcv: tuple[float, float, float, float, float],
    ) -> None:
        """A bar opened at ``ts_ns`` closed at ``close_ns``: match working orders on it as
        the backtest does, then mark the symbol at its close."""
        index = self.portfolio.index.get(symbol)
        if index is None:
            return
        self._advance(close_ns)
        o, h, low, c, volume = ohlcv
        self.venue.on_bar(index, ts_ns, o, h, low, c, volume, close_ns)
        self.portfolio.marks[index] = c

    def on_quote(self, symbol: str, ts_ns: int, bid: float, ask: float) -> None:
        index = self.portfolio.index.get(symbol)
        if index is None:
            return
        self._advance(ts_ns)
        self.venue.on_quote(index, ts_ns, bid, ask)
        self.portfolio.marks[index] = (bid + ask) / 2.0

    def on_trade(self, symbol: str, ts_ns: int, price: float) -> None:
        index = self.portfolio.index.get(symbol)
        if index is None:
            return
        self._advance(ts_ns)
        self.venue.on_trade(index, ts_ns, price)
        self.portfolio.marks[index] = price

    def _advance(self, ns: int) -> None:
        """Move the market clock; orders sent before the first market event enter now
        (they can fill from the next event on)."""
        self.now_ns = max(self.now_ns, ns)
        waiting, self._waiting = self._waiting, []
        for sim in waiting:
            self._enter(sim)

    # Venue hooks

    def _on_fill(self, fill: Fill) -> None:
        client = self._clients[fill.order_id]
        sim = self._orders[client]
        cumulative = self._base[client] + decimal(sim.filled)
        report = FillReport(
            broker_fill_id=f"{client}@{cumulative.normalize():f}",
            quantity=decimal(fill.quantity),
            price=decimal(fill.price),
            commission=decimal(fill.commission),
            filled_at=instant(fill.ts_ns),
        )
        self._fills[client].append(report)
        self._events.append(
            BrokerEvent(
                BrokerEventKind.FILL,
                client,
                report.filled_at,
                self._broker_ids[sim.id],
                fill=report,
            )
        )

    def _on_order(self, order: Order) -> None:
        client = self._clients.get(order.id)
        if client is None:
            return
        kind = {
            OrderStatus.CANCELLED: BrokerEventKind.CANCELED,
            OrderStatus.REJECTED: BrokerEventKind.CANCELED,
            OrderStatus.EXPIRED: BrokerEventKind.EXPIRED,
        }.get(order.status)
        if kind is not None and not self._submitting:
            self._events.append(
                BrokerEvent(
                    kind, client, instant(self.now_ns), self._broker_ids[order.id], order.reason
                )
            )

    def _answer(self, client_order_id: str, sim: Order) -> BrokerEvent:
        at, broker_id = instant(self.now_ns), self._broker_ids[sim.id]
        if client_order_id in self._refused:
            return BrokerEvent(BrokerEventKind.REJECTED, client_order_id, at, broker_id, sim.reason)
        return BrokerEvent(BrokerEventKind.ACCEPTED, client_order_id, at, broker_id)
