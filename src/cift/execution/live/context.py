"""The strategy's context in live trading: the same Context API as in a backtest, backed by
the OMS and the ledger instead of a simulated portfolio.

The clock is the market's: a bar's close time. Features are the batch engine's kernels
continued one bar at a time (:class:`~cift.features.engine.LiveFeatures`), equal to what
the backtest computes over the same bars. Orders go through the OMS under signal ids
derived from (symbol, bar, order number), so a bar processed twice asks for the same
orders and makes none twice.

``order_target_percent`` is sized when it is decided, at the last price (a broker needs a
quantity): the backtest does the same with ``sizing="decision"``, which the parity
report replays with; by default a backtest sizes at the fill price.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl

from cift.backtest.config import BacktestConfig
from cift.backtest.venue import AT_TARGET, target_change
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.db.models.ledger import LedgerOrder, LedgerOrderType, LedgerTimeInForce, OrderState
from cift.execution.brokers.paper import simulated
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest
from cift.features.engine import LiveFeatures
from cift.features.spec import parse_call
from cift.model.orders import Order, OrderStatus
from cift.strategy.context import Context

Derived = Callable[[pl.DataFrame], dict[str, pl.Series]]
HISTORY = 10_000
"""Bars of history kept per symbol (``ctx.history`` and a strategy's derived columns)."""
FIELDS = ("open", "high", "low", "close", "volume")

STATUS = {
    OrderState.NEW: OrderStatus.PENDING,
    OrderState.SUBMITTED: OrderStatus.PENDING,
    OrderState.ACCEPTED: OrderStatus.WORKING,
    OrderState.PENDING_CANCEL: OrderStatus.WORKING,
    OrderState.PENDING_REPLACE: OrderStatus.WORKING,
    OrderState.PARTIALLY_FILLED: OrderStatus.PARTIALLY_FILLED,
    OrderState.FILLED: OrderStatus.FILLED,
    OrderState.CANCELED: OrderStatus.CANCELLED,
    OrderState.REPLACED: OrderStatus.CANCELLED,
    OrderState.REJECTED: OrderStatus.REJECTED,
    OrderState.EXPIRED: OrderStatus.EXPIRED,
}


@dataclass
class Book:
    """The account as the ledger last said: cash and positions (floats for strategies)."""

    cash: float
    positions: dict[str, float]


class LiveContext(Context):
    """Implements the Context primitives over the OMS, the ledger and live bars."""

    def __init__(
        self,
        settings: Settings,
        oms: OrderManager,
        config: BacktestConfig,
    ) -> None:
        self._settings = settings
        self.oms = oms
        self.config = config
        self.now = 0
        self.symbol = ""
        self.bar_ts = 0
        self.book = Book(0.0, {})
        self.marks: dict[str, float] = {}
        self._live: LiveFeatures | None = None
        self._derived: Derived | None = None
        self._values: dict[str, dict[str, float | None]] = {}
        self._history: dict[str, deque[tuple[int, float, float, float, float, float]]] = {}
        self._open: dict[int, tuple[Order, str]] = {}
        """The strategy's open orders by id, with their client order ids."""
        self._ids = itertools.count(1)
        self._sequence = 0
        self.traded: Callable[[], float] = lambda: 0.0
        """Units traded so far in the run (tiered commissions); the runner's broker knows."""

    # The engine's side

    def declare(self, features: dict[str, str], derived: Derived | None) -> None:
        """The strategy's features ({name: call}) and its derived columns, if any."""
        calls = [parse_call(f"{name}={text}") for name, text in features.items()]
        self._live = LiveFeatures(calls) if calls else None
        self._derived = derived

    def advance(self, symbol: str, ts_ns: int, close_ns: int, ohlcv: tuple[float, ...]) -> None:
        """A bar of ``symbol`` closed: history, features and the clock move to it."""
        self.now, self.symbol, self.bar_ts, self._sequence = close_ns, symbol, ts_ns, 0
        history = self._history.setdefault(symbol, deque(maxlen=HISTORY))
        history.append((ts_ns, *ohlcv))  # type: ignore[arg-type]
        self.marks[symbol] = ohlcv[3]
        values: dict[str, float | None] = {}
        if self._live is not None:
            row = dict(zip(FIELDS, ohlcv, strict=True))
            values.update(self._live.update(symbol, row))
        if self._derived is not None:
            frame = self.bars_of(symbol)
            for name, column in self._derived(frame).items():
                last = column[-1]
                values[name] = None if last is None or math.isnan(last) else float(last)
        self._values[symbol] = values

    def bars_of(self, symbol: str) -> pl.DataFrame:
        """The history of ``symbol`` as a bar frame (the model strategy scores it)."""
        rows = list(self._history.get(symbol, ()))
        frame = pl.DataFrame(
            rows, schema=[("ts", pl.Int64), *((f, pl.Float64) for f in FIELDS)], orient="row"
        )
        return frame.select(
            pl.lit(symbol).alias("symbol"), pl.col("ts").cast(pl.Datetime("ns", "UTC")), *FIELDS
        )

    def refresh(self, book: Book, orders: list[LedgerOrder]) -> list[Order]:
        """Take the ledger's account and the rows of the open orders; the strategy's
        orders whose status changed (closed ones are let go)."""
        self.book = book
        changed = []
        by_client = {client: (oid, order) for oid, (order, client) in self._open.items()}
        for row in orders:
            found = by_client.get(row.client_order_id)
            if found is None:
                continue
            oid, order = found
            status, filled = STATUS[row.state], float(row.filled_quantity)
            if status is not order.status or filled != order.filled:
                order.status, order.filled = status, filled
                order.average_price = float(row.average_price or 0)
                order.reason = row.reason or ""
                changed.append(order)
            if not status.is_open:
                del self._open[oid]
        return changed

    def adopt(self, rows: list[LedgerOrder]) -> None:
        """Track the run's orders still open in the ledger (after a restart), so sizing
        and ``open_orders`` see them as before."""
        tracked = set(self.open_clients())
        for row in rows:
            if row.client_order_id in tracked or not row.state.is_open:
                continue
            order = simulated(self.new_order_id(), row)
            order.status, order.filled = STATUS[row.state], float(row.filled_quantity)
            order.tag = row.tag or ""
            self._open[order.id] = (order, row.client_order_id)

    def open_clients(self) -> list[str]:
        """Client order ids of the strategy's orders still open (what ``refresh`` reads)."""
        return [client for _, client in self._open.values()]

    # Context primitives

    @property
    def now_ns(self) -> int:
        return self.now

    def new_order_id(self) -> int:
        return next(self._ids)

    def submit(self, order: Order) -> Order:
        order.created_ns = self.now
        quantity, side, why = self._quantity(order)
        if quantity <= 0:
            status = OrderStatus.FILLED if why == AT_TARGET else OrderStatus.REJECTED
            order.status, order.reason = status, why
            return order
        self._sequence += 1
        request = OrderRequest(
            symbol=order.symbol,
            side=side,
            quantity=Decimal(repr(quantity)),
            order_type=LedgerOrderType(order.type.value),
            time_in_force=LedgerTimeInForce(order.tif.value),
            limit_price=None if order.limit_price is None else Decimal(repr(order.limit_price)),
            stop_price=None if order.stop_price is None else Decimal(repr(order.stop_price)),
            signal_id=f"{order.symbol}@{self.bar_ts}#{self._sequence}",
            tag=order.tag or None,
        )
        row = self.oms.submit(request)
        order.quantity, order.side = quantity, type(order.side)(side)
        order.status, order.reason = STATUS[row.state], row.reason or ""
        order.filled = float(row.filled_quantity)
        if order.status.is_open:
            self._open[order.id] = (order, row.client_order_id)
        return order

    def _quantity(self, order: Order) -> tuple[float, int, str]:
        """Quantity and side; a target percent is sized now, at the last price, as the
        backtest does with ``sizing="decision"``."""
        if order.target_fraction is None:
            return order.quantity, int(order.side), ""
        price = self.marks.get(order.symbol)
        if price is None or not price > 0:
            raise ValidationError(f"No price for {order.symbol} yet to size the order.")
        committed = sum(
            o.remaining * (o.limit_price or self.marks.get(o.symbol, 0.0))
            for o in self.open_orders()
            if o.side > 0
        )
        change, why = target_change(
            self.config,
            order.target_fraction,
            self.equity,
            price,
            self.book.positions.get(order.symbol, 0.0),
            self.book.cash - committed,
            self.traded(),
        )
        return abs(change), 1 if change >= 0 else -1, why

    def cancel(self, order_id: int) -> None:
        found = self._open.get(order_id)
        if found is not None:
            self.oms.cancel(found[1])

    def position(self, symbol: str | None = None) -> float:
        return self.book.positions.get(symbol or self.symbol, 0.0)

    @property
    def cash(self) -> float:
        return self.book.cash

    @property
    def equity(self) -> float:
        held = self.book.positions.items()
        return self.book.cash + sum(q * self.marks.get(s, math.nan) for s, q in held if q)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            order for order, _ in self._open.values() if symbol is None or order.symbol == symbol
        ]

    def feature(self, name: str, symbol: str | None = None) -> float | None:
        values = self._values.get(symbol or self.symbol)
        if values is None:
            return None
        if name not in values:
            raise ValidationError(
                f"Unknown feature {name!r}; declare it in the strategy's features() "
                f"(declared: {sorted(values)})."
            )
        return values[name]

    def history(self, symbol: str, field: str, count: int) -> np.ndarray:
        if field not in FIELDS:
            raise ValidationError(f"No bar field {field!r}; bars have {list(FIELDS)}.")
        rows = list(self._history.get(symbol, ()))[-count:]
        column = FIELDS.index(field) + 1
        return np.array([row[column] for row in rows], dtype=np.float64)
