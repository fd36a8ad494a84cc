"""An account's ledger under test: a paper broker, minute bars fed by hand, and the
invariants every ledger keeps (positions are the sum of fills, cash the sum of its
movements)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.db.models import TradingAccount
from cift.db.models.ledger import CashMovement, LedgerFill, LedgerOrder, LedgerPosition
from cift.execution.brokers.paper import PaperBroker
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest

Sessions = sessionmaker[Session]
SYMBOLS = ["AAA", "BBB"]
CONFIG = BacktestConfig(commission=Bps(5), fractional=True)
MINUTE_NS = 60_000_000_000
TICK = Decimal("1e-10")
T0 = int(datetime(2024, 3, 1, 14, 30, tzinfo=UTC).timestamp() * 1e9)


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
