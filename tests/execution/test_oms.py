"""The OMS with the paper broker on SQLite and PostgreSQL: orders persisted before they are
sent, asked twice but made once, every fill booked once into positions and cash, and the
ledger repaired after a crash at each point between the commit and the broker's answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.core.errors import BrokerError
from cift.core.settings import Settings
from cift.db.models import Role, TradingAccount
from cift.db.models.ledger import (
    CashMovement,
    LedgerFill,
    LedgerOrder,
    LedgerOrderType,
    LedgerPosition,
    OrderEvent,
    OrderState,
)
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.brokers.base import BrokerEvent, BrokerOrder
from cift.execution.brokers.paper import PaperBroker
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]
SYMBOLS = ["AAA", "BBB"]
CONFIG = BacktestConfig(commission=Bps(5), fractional=True)
MINUTE_NS = 60_000_000_000
TICK = Decimal("1e-10")
T0 = int(datetime(2024, 3, 1, 14, 30, tzinfo=UTC).timestamp() * 1e9)


@pytest.fixture
def account(any_db: Sessions, any_db_settings: Settings) -> TradingAccount:
    owner = make_user(any_db, any_db_settings, "trader", Role.TRADER)
    spec = AccountSpec(name="paper-1", initial_cash=Decimal(100_000))
    return open_account(any_db, owner.id, spec)


def paper() -> PaperBroker:
    return PaperBroker(SYMBOLS, CONFIG, cash=100_000.0)


def feed(oms: OrderManager, broker: PaperBroker, minute: int, prices: dict[str, float]) -> None:
    """One minute bar per symbol (open = close = price, a 1% range), then the events."""
    for symbol, price in prices.items():
        ts = T0 + minute * MINUTE_NS
        broker.on_bar(symbol, ts, ts + MINUTE_NS, (price, price * 1.01, price * 0.99, price, 1e6))
        oms.marks[symbol] = Decimal(repr(price))
    oms.process()


def buy(quantity: int, signal: str, **extra: Any) -> OrderRequest:
    return OrderRequest(symbol="AAA", side=1, quantity=Decimal(quantity), signal_id=signal, **extra)


def ledger(db: Sessions, account_id: uuid.UUID) -> dict[str, Any]:
    with db() as session:
        fills = list(session.scalars(select(LedgerFill).where(LedgerFill.account_id == account_id)))
        positions = {
            p.symbol: p.quantity
            for p in session.scalars(
                select(LedgerPosition).where(LedgerPosition.account_id == account_id)
            )
        }
        moved = session.scalars(
            select(CashMovement.amount).where(CashMovement.account_id == account_id)
        )
        cash_sum = sum(moved, Decimal(0))
        account = session.get(TradingAccount, account_id)
        assert account is not None
        orders = session.scalar(
            select(func.count())
            .select_from(LedgerOrder)
            .where(LedgerOrder.account_id == account_id)
        )
        return {
            "fills": fills,
            "positions": positions,
            "cash": account.cash,
            "cash_sum": cash_sum,
            "orders": orders,
        }


def assert_consistent(db: Sessions, account_id: uuid.UUID) -> dict[str, Any]:
    """Positions equal the sum of fills; cash equals the sum of its movements and the
    initial cash less what the fills cost."""
    state = ledger(db, account_id)
    summed: dict[str, Decimal] = {}
    spent = Decimal(0)
    for fill in state["fills"]:
        summed[fill.symbol] = summed.get(fill.symbol, Decimal(0)) + fill.side * fill.quantity
        # each movement is stored to the ledger's 10 decimal places
        spent += (fill.side * fill.quantity * fill.price).quantize(TICK) + fill.commission
    assert {s: q for s, q in state["positions"].items() if q} == {
        s: q for s, q in summed.items() if q
    }
    assert state["cash"] == state["cash_sum"] == Decimal(100_000) - spent
    return state


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
    recovery = restarted.recover()
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


def test_a_paper_broker_restart_resends_the_remainder_and_books_no_fill_twice(
    any_db: Sessions, account: TradingAccount
) -> None:
    config = BacktestConfig(participation=0.001, fractional=True)  # 1,000 of 1e6 per bar
    broker = PaperBroker(SYMBOLS, config, cash=100_000.0)
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 20.0})
    order = oms.submit(buy(2_500, "big"))
    feed(oms, broker, 1, {"AAA": 20.0})
    with any_db() as session:
        row = session.get(LedgerOrder, order.id)
        assert row is not None
        assert (row.state, row.filled_quantity) == (OrderState.PARTIALLY_FILLED, Decimal(1000))

    fresh = PaperBroker(SYMBOLS, config, cash=80_000.0, positions={"AAA": 1000.0})
    restarted = OrderManager(any_db, account.id, fresh)
    restarted.marks = dict(oms.marks)
    assert restarted.recover().resent == [order.client_order_id]
    for minute in (2, 3, 4):
        feed(restarted, fresh, minute, {"AAA": 20.0})
    state = assert_consistent(any_db, account.id)
    assert [f.quantity for f in state["fills"]] == [Decimal(1000)] * 2 + [Decimal(500)]
    assert len({f.broker_fill_id for f in state["fills"]}) == 3
    assert state["positions"]["AAA"] == Decimal(2500)


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
    with any_db() as session:
        row = session.get(LedgerOrder, order.id)
        assert row is not None
        assert row.state is OrderState.FILLED
        kinds = session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
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
