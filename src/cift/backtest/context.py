"""The strategy's context inside a backtest: the simulated clock, venue and portfolio."""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from cift.backtest import events as ev
from cift.backtest.events import doubles
from cift.backtest.portfolio import Portfolio
from cift.backtest.venue import AT_TARGET, Venue, target_change
from cift.core.errors import ValidationError
from cift.features.engine import compute_values
from cift.features.spec import FeatureCall, parse_call
from cift.model.orders import Order, OrderSide, OrderStatus
from cift.strategy.context import Context

if TYPE_CHECKING:
    from cift.core.settings import Settings


class BacktestContext(Context):
    """Implements the Context primitives over the event stream."""

    def __init__(
        self,
        stream: ev.EventStream,
        portfolio: Portfolio,
        settings: Settings | None = None,
    ) -> None:
        self._settings = settings
        self.stream = stream
        self.portfolio = portfolio
        self.now = 0
        self.venue: Venue | None = None
        self.orders: list[Order] = []
        self._ids = itertools.count(1)
        # Where the engine is: the current event's kind and symbol index, and where its
        # feature values sit in ``current`` (its row, or its place in a gathered chunk).
        self.symbol_index = 0
        self.kind = -1
        self.cursor = -1
        self._last_row = [[-1] * len(stream.symbols) for _ in range(3)]
        self._features: dict[str, tuple[int, array[float]]] = {}
        # Feature values by event kind; ``current`` is the current kind's (set with kind).
        self.by_kind: list[dict[str, array[float]]] = [{}, {}, {}]
        self.current: dict[str, array[float]] = {}

    def attach(
        self,
        venue: Venue,
        features: dict[str, str],
        orders: list[Order],
        derived: Callable[[pl.DataFrame], dict[str, pl.Series]] | None = None,
    ) -> None:
        """Connect the venue and compute the strategy's declared features and derived
        columns (over the bars)."""
        self.venue = venue
        self.orders = orders
        calls: dict[int, list[FeatureCall]] = {}
        for name, text in features.items():
            call = parse_call(f"{name}={text}")
            calls.setdefault(self._kind_of(call, name, text), []).append(call)
        for code, of_kind in calls.items():
            self._features.update(self._compute(code, of_kind))
        bars = self.stream.bars
        if derived is not None and bars is not None:
            for name, column in derived(bars.by_symbol.gather(bars.frame)).items():
                if column.len() != bars.frame.height:
                    raise ValidationError(
                        f"Derived column {name!r} has {column.len():,} values for "
                        f"{bars.frame.height:,} bars."
                    )
                self._features[name] = (ev.BAR, bars.by_symbol.scatter(_floats(column)))
        for name, (kind, values) in self._features.items():
            self.by_kind[kind][name] = values

    def _kind(self, code: int) -> ev.Columns | None:
        """The stream's data of one kind (bars, quotes or trades), if it has any."""
        stream = self.stream
        return {ev.BAR: stream.bars, ev.QUOTE: stream.quotes, ev.TRADE: stream.trades}[code]

    def _kind_of(self, call: FeatureCall, name: str, text: str) -> int:
        """The first kind of data (bars, quotes, trades) that has the call's inputs."""
        for code in (ev.BAR, ev.QUOTE, ev.TRADE):
            columns = self._kind(code)
            if columns is not None and set(call.spec.inputs) <= set(columns.frame.columns):
                return code
        raise ValidationError(
            f"Feature {name!r} = {text} needs {list(call.spec.inputs)}, which no data of this "
            "backtest has."
        )

    def _compute(self, code: int, calls: list[FeatureCall]) -> dict[str, tuple[int, array[float]]]:
        """Values of the declared features of one kind of data; several outputs are named
        ``name_<suffix>`` (``{"bb": "bbands(20)"}`` gives bb_upper, bb_middle and
        bb_lower). They run over each symbol's rows in time order, on just the columns
        they read (the symbol as its index), and come back in row order.

        Values sit in a float array (NaN where undefined): a quarter of the memory of a
        list of floats, and indexing it is as quick."""
        columns = self._kind(code)
        assert columns is not None
        inputs = dict.fromkeys(["ts", *(c for call in calls for c in call.spec.inputs)])
        narrow = columns.frame.select(*inputs).with_columns(symbol=pl.Series(columns.symbol))
        _, computed = compute_values(columns.by_symbol.gather(narrow), calls)
        return {
            name: (code, columns.by_symbol.scatter(values)) for name, values in computed.items()
        }

    def last_rows(self, kind: int) -> list[int]:
        """The (live) list of each symbol's latest row of ``kind``."""
        return self._last_row[kind]

    def advance(self, kind: int, symbol: int, row: int) -> None:
        """The engine moved to an event (of ``kind``, for ``symbol``, at ``row``)."""
        self.symbol_index = symbol
        self.kind = kind
        self.current = self.by_kind[kind]
        self.cursor = row
        self._last_row[kind][symbol] = row

    def gather(self, kind: int, rows: np.ndarray) -> None:
        """The next events are all of ``kind``, at ``rows``: ``current`` becomes their
        feature values in event order, read at ``cursor`` = the event's place in
        ``rows``. Reading in order instead of jumping between symbols' rows keeps the
        loop in the CPU cache when many symbols interleave."""
        self.kind = kind
        self.current = {
            name: doubles(np.frombuffer(values, dtype=np.float64)[rows])
            for name, values in self.by_kind[kind].items()
        }

    @property
    def now_ns(self) -> int:
        return self.now

    def new_order_id(self) -> int:
        return next(self._ids)

    def submit(self, order: Order) -> Order:
        assert self.venue is not None
        self.orders.append(order)
        if order.target_fraction is not None and self.venue.config.sizing == "decision":
            return self._sized_now(order)
        return self.venue.submit(order, self.now)

    def _sized_now(self, order: Order) -> Order:
        """A target-percent order sized at the last price, as a live broker needs it."""
        assert self.venue is not None
        portfolio = self.portfolio
        index = portfolio.index.get(order.symbol)
        if index is None:
            return self.venue.submit(order, self.now)  # refused: no data for it
        marks = portfolio.marks
        price = marks[index]
        committed = sum(
            o.remaining * (o.limit_price or marks[portfolio.index[o.symbol]])
            for o in self.open_orders()
            if o.side > 0
        )
        change, why = target_change(
            self.venue.config,
            order.target_fraction or 0.0,
            portfolio.equity,
            price,
            portfolio.quantity[index],
            portfolio.cash - committed,
            portfolio.traded_volume,
        )
        if change == 0:
            status = OrderStatus.FILLED if why == AT_TARGET else OrderStatus.REJECTED
            order.created_ns, order.status, order.reason = self.now, status, why
            return order
        order.quantity, order.side = abs(change), OrderSide(1 if change > 0 else -1)
        order.target_fraction = None
        return self.venue.submit(order, self.now)

    def cancel(self, order_id: int) -> None:
        assert self.venue is not None
        self.venue.cancel(order_id)

    def position(self, symbol: str | None = None) -> float:
        if symbol is None:
            return self.portfolio.quantity[self.symbol_index]
        index = self.portfolio.index.get(symbol)
        return 0.0 if index is None else self.portfolio.quantity[index]

    @property
    def cash(self) -> float:
        return self.portfolio.cash

    @property
    def equity(self) -> float:
        return self.portfolio.equity

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        assert self.venue is not None
        if symbol is None:
            return [o for book in self.venue.working for o in book if o.status.is_open]
        index = self.portfolio.index.get(symbol)
        return [] if index is None else [o for o in self.venue.working[index] if o.status.is_open]

    def feature(self, name: str, symbol: str | None = None) -> float | None:
        if symbol is None:
            values = self.current.get(name)
            if values is not None:
                value = values[self.cursor]
                # NaN (undefined, e.g. the warm-up) is the one float unequal to itself:
                return value if value == value else None  # noqa: PLR0124  (the fastest test)
        return self._feature_of(name, symbol)

    def _feature_of(self, name: str, symbol: str | None) -> float | None:
        found = self._features.get(name)
        if found is None:
            raise ValidationError(
                f"Unknown feature {name!r}; declare it in the strategy's features() "
                f"(declared: {sorted(self._features)})."
            )
        kind, values = found
        index = self.symbol_index if symbol is None else self.portfolio.index[symbol]
        row = self._last_row[kind][index]
        if row < 0:
            return None
        value = values[row]
        return None if math.isnan(value) else value

    def history(self, symbol: str, field: str, count: int) -> np.ndarray:
        bars = self.stream.bars
        if bars is None or field not in bars.values:
            raise ValidationError(
                f"No bar field {field!r}; bars have {sorted(bars.values) if bars else []}."
            )
        index = self.portfolio.index[symbol]
        row = self._last_row[ev.BAR][index]
        if row < 0:
            return np.empty(0)
        return bars.values[field][bars.by_symbol.latest(index, row, count)]


def _floats(values: pl.Series) -> np.ndarray:
    """A float column as doubles, nulls as NaN: one value per row, NaN where undefined."""
    return values.cast(pl.Float64).fill_null(math.nan).to_numpy()
