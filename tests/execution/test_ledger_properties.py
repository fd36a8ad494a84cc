"""Ledger invariants over random order flow through the OMS and the paper broker: positions
are the sum of fills, cash is the sum of its movements, ledger equity equals the paper
venue's, no fill precedes its order, and no order is ever filled past its quantity."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.db.models import Role
from cift.db.models.ledger import (
    LedgerFill,
    LedgerOrder,
    LedgerOrderType,
    LedgerTimeInForce,
    OrderState,
)
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.brokers.paper import PaperBroker
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest
from tests.budget import deep
from tests.execution.ledgers import CONFIG, SYMBOLS, assert_consistent, feed
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]

Submit = tuple[str, str, int, int, float | None]
Bar = tuple[str, float, float]
Cancel = tuple[str, int]
Action = Submit | Bar | Cancel

submit = st.tuples(
    st.just("submit"),
    st.sampled_from(SYMBOLS),
    st.sampled_from([1, -1]),
    st.integers(min_value=1, max_value=80),
    st.one_of(st.none(), st.floats(min_value=80, max_value=120)),
)
bar = st.tuples(st.just("bar"), st.floats(min_value=85, max_value=115), st.floats(0.9, 1.1))
cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=50))
actions = st.lists(st.one_of(submit, bar, cancel), min_size=5, max_size=30)


def test_random_order_flow_keeps_the_ledger_whole(db: Sessions, settings: Settings) -> None:
    owner = make_user(db, settings, "trader", Role.TRADER)

    @hypothesis_settings(max_examples=deep(12), deadline=None)
    @given(flow=actions)
    def trade(flow: list[Action]) -> None:
        name = f"p-{uuid.uuid4().hex[:12]}"
        spec = AccountSpec(name=name, initial_cash=Decimal(100_000))
        account = open_account(db, owner.id, spec)
        broker = PaperBroker(SYMBOLS, CONFIG, cash=100_000.0)
        oms = OrderManager(db, account.id, broker)
        play(db, oms, broker, flow)
        check_ledger(db, account.id, broker)

    trade()


def play(db: Sessions, oms: OrderManager, broker: PaperBroker, flow: list[Action]) -> None:
    minute, sent = 0, []
    feed(oms, broker, minute, {"AAA": 100.0, "BBB": 100.0})
    for action in flow:
        if action[0] == "submit":
            _, symbol, side, quantity, limit = action  # type: ignore[misc]
            request = OrderRequest(
                symbol=symbol,
                side=side,
                quantity=Decimal(quantity),
                order_type=LedgerOrderType.MARKET if limit is None else LedgerOrderType.LIMIT,
                limit_price=None if limit is None else Decimal(f"{limit:.2f}"),
                time_in_force=LedgerTimeInForce.GTC,
            )
            sent.append(oms.submit(request).client_order_id)
        elif action[0] == "bar":
            _, price, ratio = action  # type: ignore[misc]
            minute += 1
            feed(oms, broker, minute, {"AAA": price, "BBB": price * ratio})
        elif sent:
            client = sent[action[1] % len(sent)]  # type: ignore[operator]
            with db() as session:
                state = session.scalar(
                    select(LedgerOrder.state).where(LedgerOrder.client_order_id == client)
                )
            if state in (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED):
                oms.cancel(client)
                oms.process()


def check_ledger(db: Sessions, account_id: uuid.UUID, broker: PaperBroker) -> None:
    ledger = assert_consistent(db, account_id)
    marks = {s: Decimal(repr(broker.portfolio.marks[i])) for s, i in broker.portfolio.index.items()}
    equity = ledger["cash"] + sum(q * marks[s] for s, q in ledger["positions"].items())
    assert float(equity) == pytest.approx(broker.portfolio.equity, rel=1e-9)
    with db() as session:
        orders = {o.id: o for o in session.scalars(select(LedgerOrder))}
        for fill in session.scalars(select(LedgerFill).where(LedgerFill.account_id == account_id)):
            order = orders[fill.order_id]
            assert order.submitted_at is not None
            assert fill.filled_at >= order.submitted_at
        for order in orders.values():
            assert order.filled_quantity <= order.quantity
            assert (order.state is OrderState.FILLED) == (order.filled_quantity == order.quantity)
