"""Pre-trade risk and the kill switch through the OMS: each limit refuses with its reason and
nothing reaches the broker; after a halt no order leaves and open orders are canceled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit.chain import Actor
from cift.core.settings import Settings
from cift.db.engine import transaction
from cift.db.models import AuditEntry, Role, TradingAccount
from cift.db.models.ledger import LedgerOrder, LedgerOrderType, OrderState
from cift.execution import halts
from cift.execution.accounts import AccountSpec, RiskLimits, open_account
from cift.execution.brokers.paper import PaperBroker
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest
from cift.execution.risk import OrderRate, RiskBook, check
from tests.execution.ledgers import CONFIG, SYMBOLS, feed
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]
ADMIN = Actor(None, "admin")


def _account(db: Sessions, settings: Settings, **limits: Any) -> TradingAccount:
    owner = make_user(db, settings, "trader", Role.TRADER)
    spec = AccountSpec(
        name="paper-1", initial_cash=Decimal(10_000), risk_limits=RiskLimits(**limits)
    )
    return open_account(db, owner.id, spec)


def order(side: int = 1, quantity: int = 10, **extra: Any) -> OrderRequest:
    return OrderRequest(symbol="AAA", side=side, quantity=Decimal(quantity), **extra)


LIMIT_CASES = [
    ({"max_order_quantity": 5}, order(), "max_order_quantity"),
    ({"max_order_value": 500}, order(), "max_order_value"),
    ({"max_position_value": 900}, order(), "max_position_value"),
    ({"max_gross_exposure": 900}, order(), "max_gross_exposure"),
    (
        {"price_collar_bps": 100},
        order(order_type=LedgerOrderType.LIMIT, limit_price=Decimal(95)),
        "price_collar",
    ),
    ({"restricted_symbols": ["AAA"]}, order(), "restricted_symbol"),
    ({"allowed_symbols": ["BBB"]}, order(), "symbol_not_allowed"),
    ({}, order(quantity=102), "buying_power"),  # 102 x 99 > 10,000
    ({}, order(side=-1), "short_selling"),
]


@pytest.mark.parametrize(("limits", "request_", "code"), LIMIT_CASES)
def test_each_limit_refuses_with_its_reason(
    db: Sessions, settings: Settings, limits: dict[str, Any], request_: OrderRequest, code: str
) -> None:
    account = _account(db, settings, **limits)
    broker = PaperBroker(SYMBOLS, CONFIG, cash=10_000.0)
    oms = OrderManager(db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 99.0})
    refused = oms.submit(request_)
    assert refused.state is OrderState.REJECTED
    assert refused.reason is not None
    assert refused.reason.startswith(f"{code}: ")
    assert broker.find(refused.client_order_id) is None  # it never left
    # and the same order within the limit passes (buying power: 10 x 99 is affordable)
    if code not in ("restricted_symbol", "symbol_not_allowed", "short_selling"):
        allowed = oms.submit(order(quantity=1, signal_id="small"))
        assert allowed.state is OrderState.ACCEPTED


def test_rate_limits_count_the_orders_sent() -> None:
    now = [0.0]
    rate = OrderRate(clock=lambda: now[0])
    limits = RiskLimits(max_orders_per_second=2, max_orders_per_minute=3)
    book = RiskBook(cash=Decimal(1_000_000), marks={"AAA": Decimal(10)})
    outcomes = []
    for t in (0.0, 0.1, 0.2, 1.5, 2.0, 61.0):
        now[0] = t
        rejection = check(order(), limits, book, rate)
        outcomes.append(None if rejection is None else rejection.code)
        if rejection is None:
            rate.record()
    assert outcomes == [None, None, "orders_per_second", None, "orders_per_minute", None]


def test_daily_loss_halts_the_account_and_the_halt_cancels_and_refuses(
    db: Sessions, settings: Settings
) -> None:
    account = _account(db, settings, max_daily_loss=100)
    broker = PaperBroker(SYMBOLS, CONFIG, cash=10_000.0)
    oms = OrderManager(db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    assert oms.submit(order(quantity=50, signal_id="in")).state is OrderState.ACCEPTED
    feed(oms, broker, 1, {"AAA": 100.0})  # bought 50 at 100
    resting = oms.submit(
        order(
            quantity=1, signal_id="rest", order_type=LedgerOrderType.LIMIT, limit_price=Decimal(90)
        )
    )
    assert resting.state is OrderState.ACCEPTED
    feed(oms, broker, 2, {"AAA": 97.5})  # 50 x -2.5 = -125 (and commission): past -100
    refused = oms.submit(order(quantity=1, signal_id="more"))
    assert refused.reason is not None
    assert refused.reason.startswith("max_daily_loss: ")
    assert oms.halted
    with db() as session:
        halt = halts.active(session, account.id)
        assert halt is not None
        assert halt.engaged_by == "risk"

    assert oms.cancel_all() == 1  # the resting limit
    oms.process()
    after = oms.submit(order(quantity=1, signal_id="after"))
    assert after.reason is not None
    assert after.reason.startswith("halted: ")
    with db() as session:
        rest = session.get(LedgerOrder, resting.id)
        assert rest is not None
        assert rest.state is OrderState.CANCELED

    # an admin resets it: orders that reduce the position flow again (one that adds to
    # it would halt the account again); both actions are in the audit chain
    with transaction(db) as session:
        assert halts.reset(session, ADMIN, account.id) == 1
    assert oms.submit(order(quantity=1, side=-1, signal_id="out")).state is OrderState.ACCEPTED
    with db() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-2:] == [halts.ENGAGE, halts.RESET]


def test_a_global_halt_stops_every_account(db: Sessions, settings: Settings) -> None:
    account = _account(db, settings)
    with transaction(db) as session:
        halts.engage(session, ADMIN, None, "market-wide stop")
        halts.engage(session, ADMIN, None, "again")  # already engaged: one halt
    broker = PaperBroker(SYMBOLS, CONFIG, cash=10_000.0)
    oms = OrderManager(db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    refused = oms.submit(order(quantity=1))
    assert refused.reason == "halted: Trading is halted: market-wide stop"
    with transaction(db) as session:
        assert halts.reset(session, ADMIN, None) == 1
    assert oms.submit(order(quantity=1, signal_id="x")).state is OrderState.ACCEPTED
