"""Replacing a working order on SQLite and PostgreSQL: the replacement is an order of its
own, persisted before the broker's replace, made once however often it is asked for,
risk-checked without the order it replaces, refused when the old order closed first,
and sent exactly once across a crash or a queue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from cift.core.errors import BrokerError, OrderStateError
from cift.db.models import TradingAccount
from cift.db.models.ledger import LedgerOrder, LedgerOrderType, OrderEvent, OrderState
from cift.execution.brokers.base import BrokerEvent, BrokerOrder
from cift.execution.brokers.paper import PaperBroker
from cift.execution.oms import OrderManager
from cift.execution.recovery import recover
from cift.execution.requests import OrderChange
from tests.execution.ledgers import (
    CONFIG,
    MINUTE_NS,
    SYMBOLS,
    T0,
    Sessions,
    assert_consistent,
    buy,
    feed,
    paper,
)

LIMIT = {"order_type": LedgerOrderType.LIMIT}


def limit_buy(quantity: int, price: int, signal: str = "s1") -> object:
    return buy(quantity, signal, **LIMIT, limit_price=Decimal(price))


def rows(db: Sessions) -> dict[str, LedgerOrder]:
    """Every order by its signal id."""
    with db() as session:
        return {o.signal_id: o for o in session.scalars(select(LedgerOrder))}


def kinds(db: Sessions, order: LedgerOrder) -> list[str]:
    with db() as session:
        return list(
            session.scalars(
                select(OrderEvent.kind)
                .where(OrderEvent.order_id == order.id)
                .order_by(OrderEvent.id)
            )
        )


def test_a_replacement_takes_the_old_orders_place_once(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = paper()
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    old = oms.submit(limit_buy(5, 90))
    assert old.state is OrderState.ACCEPTED
    new = oms.replace(str(old.id), OrderChange(limit_price=Decimal(99), quantity=Decimal(7)))
    assert (new.state, new.replaces_id, new.quantity) == (OrderState.ACCEPTED, old.id, 7)
    assert new.limit_price == Decimal(99)
    oms.process()
    assert oms.replace(old.client_order_id, OrderChange(limit_price=Decimal(1))).id == new.id
    assert len(broker._orders) == 2  # asked twice, sent once

    feed(oms, broker, 1, {"AAA": 98.0})  # under the new limit, above the old one
    found = rows(any_db)
    assert found["s1"].state is OrderState.REPLACED
    assert found["s1"].filled_quantity == 0
    assert found["s1"].reason == f"replaced by {new.client_order_id}"
    assert kinds(any_db, old) == ["create", "submit", "accept", "replace_request", "replace"]
    replacement = found["s1/replace/1"]
    assert (replacement.state, replacement.filled_quantity) == (OrderState.FILLED, 7)
    state = assert_consistent(any_db, account.id)
    assert [(f.quantity, f.price) for f in state["fills"]] == [(Decimal(7), Decimal("98.0"))]


def test_an_order_that_filled_before_its_replace_keeps_its_fill(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = paper()
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    old = oms.submit(limit_buy(5, 99))
    ts = T0 + MINUTE_NS  # the venue fills it; the OMS has not heard yet
    broker.on_bar("AAA", ts, ts + MINUTE_NS, (98.0, 98.0, 98.0, 98.0, 1e6))
    new = oms.replace(str(old.id), OrderChange(limit_price=Decimal(95)))
    assert new.state is OrderState.REJECTED
    assert new.reason == "not replaced: the order is filled"
    oms.process()
    found = rows(any_db)
    assert (found["s1"].state, found["s1"].filled_quantity) == (OrderState.FILLED, 5)
    assert_consistent(any_db, account.id)
    with pytest.raises(OrderStateError, match="only a working order"):
        oms.replace(str(old.id), OrderChange(limit_price=Decimal(95)))


def test_a_replacement_is_checked_without_the_order_it_replaces(
    any_db: Sessions, account: TradingAccount
) -> None:
    with any_db.begin() as session:
        row = session.get(TradingAccount, account.id)
        assert row is not None
        row.risk_limits = {"max_position_value": "1000"}
    broker = paper()
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    old = oms.submit(limit_buy(8, 90))
    # 10 at 90 is under the limit; counting the old order's 8 too would refuse it
    grown = oms.replace(str(old.id), OrderChange(quantity=Decimal(10)))
    assert grown.state is OrderState.ACCEPTED
    oms.process()
    too_big = oms.replace(str(grown.id), OrderChange(quantity=Decimal(12)))
    assert too_big.state is OrderState.REJECTED
    assert risk_code(any_db, too_big) == "max_position_value"
    assert rows(any_db)["s1/replace/1"].state is OrderState.ACCEPTED  # left working
    again = oms.replace(str(grown.id), OrderChange(quantity=Decimal(9)))
    assert again.signal_id == "s1/replace/1/replace/2"  # a refused try is not the answer
    assert again.state is OrderState.ACCEPTED


def risk_code(db: Sessions, order: LedgerOrder) -> str:
    """The risk code recorded with an order's rejection."""
    with db() as session:
        details = session.scalar(
            select(OrderEvent.details).where(
                OrderEvent.order_id == order.id, OrderEvent.kind == "reject"
            )
        )
    assert details is not None
    return str(details["risk"])


class LostReplace(PaperBroker):
    """Replaces the order, then the connection drops before the answer arrives."""

    def replace(self, client_order_id: str, order: BrokerOrder) -> BrokerEvent:
        super().replace(client_order_id, order)
        raise BrokerError("connection reset")


def test_a_crash_before_the_replace_answer_replaces_exactly_once(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = LostReplace(SYMBOLS, CONFIG, cash=100_000.0)
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    old = oms.submit(limit_buy(5, 90))
    new = oms.replace(str(old.id), OrderChange(limit_price=Decimal(99)))
    assert new.state is OrderState.NEW  # persisted, fate unknown

    broker.__class__ = PaperBroker
    restarted = OrderManager(any_db, account.id, broker)
    restarted.marks = dict(oms.marks)
    recovery = recover(restarted)
    assert recovery.reconciled == [old.client_order_id, new.client_order_id]
    assert len(broker._orders) == 2
    restarted.process()
    feed(restarted, broker, 1, {"AAA": 98.0})
    found = rows(any_db)
    assert found["s1"].state is OrderState.REPLACED
    assert found["s1/replace/1"].state is OrderState.FILLED
    assert_consistent(any_db, account.id)


def test_a_queued_replace_is_sent_by_the_session_and_survives_a_paper_restart(
    any_db: Sessions, account: TradingAccount
) -> None:
    broker = paper()
    session_oms = OrderManager(any_db, account.id, broker)  # the running session
    feed(session_oms, broker, 0, {"AAA": 100.0})
    old = session_oms.submit(limit_buy(5, 90))
    queued = OrderManager(any_db, account.id, None)  # the API or the CLI
    new = queued.replace(old.client_order_id, OrderChange(limit_price=Decimal(99)))
    assert new.state is OrderState.NEW
    assert rows(any_db)["s1"].state is OrderState.PENDING_REPLACE
    assert session_oms.pump() == 1
    session_oms.process()
    assert rows(any_db)["s1"].state is OrderState.REPLACED

    # a second replace, queued; then the paper session restarts with nothing on its venue
    newer = queued.replace(new.client_order_id, OrderChange(quantity=Decimal(3)))
    fresh = paper()
    restarted = OrderManager(any_db, account.id, fresh)
    restarted.marks = dict(session_oms.marks)
    feed(restarted, fresh, 1, {"AAA": 100.0})
    recovery = recover(restarted)
    assert recovery.resent == [newer.client_order_id]
    assert list(fresh._orders) == [newer.client_order_id]  # the old one is not revived
    feed(restarted, fresh, 2, {"AAA": 98.0})
    found = rows(any_db)
    assert found["s1/replace/1"].state is OrderState.REPLACED
    assert (found["s1/replace/1/replace/1"].state, found["s1/replace/1/replace/1"].quantity) == (
        OrderState.FILLED,
        3,
    )
    assert_consistent(any_db, account.id)
