"""The OMS with the paper broker on SQLite and PostgreSQL: orders persisted before they are
sent, asked twice but made once, every fill booked once into positions and cash, and the
ledger repaired after a crash at each point between the commit and the broker's answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from cift.backtest.config import BacktestConfig
from cift.core.errors import BrokerError
from cift.db.models import TradingAccount
from cift.db.models.ledger import (
    LedgerOrder,
    LedgerOrderType,
    OrderEvent,
    OrderState,
)
from cift.execution.brokers.base import BrokerEvent, BrokerOrder
from cift.execution.brokers.paper import PaperBroker
from cift.execution.oms import OrderManager
from cift.execution.recovery import recover
from tests.execution.ledgers import (
    CONFIG,
    MINUTE_NS,
    SYMBOLS,
    T0,
    Sessions,
    assert_consistent,
    buy,
    feed,
    ledger,
    paper,
)


def test_an_order_fills_at_the_next_bar_and_is_booked_once(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = paper()
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0, "BBB": 50.0})
    order = oms.submit(buy(10, "s1"))
    assert order.state is OrderState.ACCEPTED
    assert order.broker_order_id is not None
    assert ledger(any_db, account.id)["fills"] == []  # nothing fills before the next bar
    feed(oms, broker, 1, {"AAA": 101.0, "BBB": 50.0})
    state = assert_consistent(any_db, account.id)
    (fill,) = state["fills"]
    assert (fill.quantity, fill.price) == (Decimal(10), Decimal("101.0"))
    assert fill.commission == Decimal(10) * Decimal("101.0") * Decimal(5) / 10_000
    assert fill.filled_at == datetime.fromtimestamp((T0 + MINUTE_NS) / 1e9, tz=UTC)
    with any_db() as session:
        row = session.scalar(select(LedgerOrder))
        assert row is not None
        assert (row.state, row.filled_quantity, row.average_price) == (
            OrderState.FILLED,
            Decimal(10),
            Decimal("101.0"),
        )
        kinds = session.scalars(select(OrderEvent.kind).order_by(OrderEvent.id)).all()
    assert kinds == ["create", "submit", "accept", "fill"]

    # the same signal again: the same order, nothing new sent or booked
    again = oms.submit(buy(10, "s1"))
    assert again.id == order.id
    feed(oms, broker, 2, {"AAA": 102.0, "BBB": 50.0})
    assert len(ledger(any_db, account.id)["fills"]) == 1
    assert ledger(any_db, account.id)["orders"] == 1


def order_and_events(db: Sessions, order_id: uuid.UUID) -> tuple[LedgerOrder, list[str]]:
    """An order as the ledger holds it, and the kinds of its events in order."""
    with db() as session:
        row = session.get(LedgerOrder, order_id)
        assert row is not None
        kinds = session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
    return row, list(kinds)


class LostAnswer(PaperBroker):
    """Takes the order, then the connection drops before the answer arrives."""

    def submit(self, order: BrokerOrder) -> BrokerEvent:
        super().submit(order)
        raise BrokerError("connection reset")


class Unreachable(PaperBroker):
    """Never receives anything."""

    def submit(self, order: BrokerOrder) -> BrokerEvent:
        raise BrokerError("connection refused")


@pytest.mark.parametrize("broker_cls", [Unreachable, LostAnswer])
def test_a_crash_between_commit_and_answer_sends_the_order_exactly_once(
    any_db: Sessions, account: TradingAccount, broker_cls: type[PaperBroker]
) -> None:
    broker = broker_cls(SYMBOLS, CONFIG, cash=100_000.0)
    first = OrderManager(any_db, account.id, broker)
    feed(first, broker, 0, {"AAA": 100.0})
    order = first.submit(buy(5, "s1"))
    assert order.state is OrderState.NEW  # persisted, fate unknown

    # the restarted process: the broker (its class now behaving) is asked first
    broker.__class__ = PaperBroker
    restarted = OrderManager(any_db, account.id, broker)
    restarted.marks = dict(first.marks)
    recovery = recover(restarted)
    held = broker.find(order.client_order_id)
    assert held is not None
    if broker_cls is LostAnswer:
        assert recovery.reconciled == [order.client_order_id]
        assert recovery.resent == []
    else:
        assert recovery.resent == [order.client_order_id]
    assert len(broker._orders) == 1
    feed(restarted, broker, 1, {"AAA": 100.5})
    state = assert_consistent(any_db, account.id)
    assert [f.quantity for f in state["fills"]] == [Decimal(5)]


def test_news_of_an_order_whose_answer_was_lost_books_it_as_sent(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = LostAnswer(SYMBOLS, CONFIG, cash=100_000.0)
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    order = oms.submit(buy(5, "s1"))
    assert order.state is OrderState.NEW
    feed(oms, broker, 1, {"AAA": 100.5})  # its fill arrives as if nothing had gone wrong
    state = assert_consistent(any_db, account.id)
    assert [f.quantity for f in state["fills"]] == [Decimal(5)]
    row, kinds = order_and_events(any_db, order.id)
    assert row.state is OrderState.FILLED
    assert row.broker_order_id == broker.find(order.client_order_id).broker_order_id  # type: ignore[union-attr]
    assert kinds == ["create", "submit", "fill"]


PARTICIPATION = BacktestConfig(participation=0.001, fractional=True)  # 1,000 of 1e6 a bar


def partly_filled_then_restarted(
    db: Sessions, account: TradingAccount
) -> tuple[LedgerOrder, OrderManager, PaperBroker]:
    """A buy of 2,500 that filled 1,000 on minute 1, then a fresh paper broker (as after
    a restart) to which recovery has sent the order again."""
    broker = PaperBroker(SYMBOLS, PARTICIPATION, cash=100_000.0)
    oms = OrderManager(db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 20.0})
    order = oms.submit(buy(2_500, "big"))
    feed(oms, broker, 1, {"AAA": 20.0})
    assert_partly_filled(db, order)
    fresh = PaperBroker(SYMBOLS, PARTICIPATION, cash=80_000.0, positions={"AAA": 1000.0})
    restarted = OrderManager(db, account.id, fresh)
    restarted.marks = dict(oms.marks)
    assert recover(restarted).resent == [order.client_order_id]
    return order, restarted, fresh


def assert_partly_filled(db: Sessions, order: LedgerOrder) -> None:
    with db() as session:
        row = session.get(LedgerOrder, order.id)
        assert row is not None
        assert (row.state, row.filled_quantity) == (OrderState.PARTIALLY_FILLED, Decimal(1000))


def test_a_paper_broker_restart_resends_the_remainder_and_books_no_fill_twice(
    any_db: Sessions, account: TradingAccount
) -> None:
    _, restarted, fresh = partly_filled_then_restarted(any_db, account)
    for minute in (2, 3, 4):
        feed(restarted, fresh, minute, {"AAA": 20.0})
    state = assert_consistent(any_db, account.id)
    assert [f.quantity for f in state["fills"]] == [Decimal(1000)] * 2 + [Decimal(500)]
    assert len({f.broker_fill_id for f in state["fills"]}) == 3
    assert state["positions"]["AAA"] == Decimal(2500)


def test_a_restart_before_a_bar_is_decided_matches_the_remainder_on_the_next_bar_only(
    any_db: Sessions, account: TradingAccount
) -> None:
    """Killed after a partial fill was booked but before the bar was checkpointed, the
    runner gives the venue that bar again: the remainder must wait for the next bar, as
    it would have without the restart (one match per bar), and stay open meanwhile."""
    order, restarted, fresh = partly_filled_then_restarted(any_db, account)
    feed(restarted, fresh, 1, {"AAA": 20.0})  # the bar of the last fill, once more
    assert_partly_filled(any_db, order)
    for minute in (2, 3):
        feed(restarted, fresh, minute, {"AAA": 20.0})
    state = assert_consistent(any_db, account.id)
    fills = sorted(state["fills"], key=lambda f: f.filled_at)
    assert [f.quantity for f in fills] == [Decimal(1000), Decimal(1000), Decimal(500)]
    assert [f.filled_at for f in fills] == [
        datetime.fromtimestamp((T0 + minute * MINUTE_NS) / 1e9, tz=UTC) for minute in (1, 2, 3)
    ]


class SlowCancel(PaperBroker):
    """The cancel request reaches the venue after the order has filled."""

    late: list[str]

    def cancel(self, client_order_id: str) -> None:
        self.late.append(client_order_id)

    def events(self) -> list[BrokerEvent]:
        for client in self.late:
            super().cancel(client)
        self.late = []
        return super().events()


def test_a_fill_after_a_cancel_request_is_booked(any_db: Sessions, account: TradingAccount) -> None:
    broker = SlowCancel(SYMBOLS, CONFIG, cash=100_000.0)
    broker.late = []
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    order = oms.submit(buy(5, "s1"))
    assert oms.cancel(order.client_order_id).state is OrderState.PENDING_CANCEL
    for symbol, price in {"AAA": 99.0}.items():  # the venue fills before the cancel lands
        ts = T0 + MINUTE_NS
        broker.on_bar(symbol, ts, ts + MINUTE_NS, (price, price, price, price, 1e6))
    oms.process()
    state = assert_consistent(any_db, account.id)
    assert [f.quantity for f in state["fills"]] == [Decimal(5)]
    row, kinds = order_and_events(any_db, order.id)
    assert row.state is OrderState.FILLED
    assert kinds == ["create", "submit", "accept", "cancel_request", "fill"]


def test_cancel_before_the_fill_and_withdrawal_before_sending(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = paper()
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    working = oms.submit(buy(5, "s1", order_type=LedgerOrderType.LIMIT, limit_price=Decimal(90)))
    oms.cancel(working.client_order_id)
    oms.process()
    feed(oms, broker, 1, {"AAA": 80.0})  # would have filled the limit
    with any_db() as session:
        row = session.get(LedgerOrder, working.id)
        assert row is not None
        assert (row.state, row.filled_quantity) == (OrderState.CANCELED, Decimal(0))

    unsent = OrderManager(any_db, account.id, Unreachable(SYMBOLS, CONFIG, cash=1e5))
    unsent.marks = dict(oms.marks)
    stuck = unsent.submit(buy(5, "s2"))
    withdrawn = unsent.cancel(stuck.client_order_id)
    assert withdrawn.state is OrderState.REJECTED
    assert withdrawn.reason == "withdrawn before it was sent"
    assert_consistent(any_db, account.id)
