"""Orders placed, replaced and canceled by hand (the API, the command line), outside the
account's trading session: risk-checked at the store's last prices and kept in the
ledger, where the running session (``cift trade run``) finds them and sends them."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session, sessionmaker

from cift.data.store.base import MarketStore
from cift.db.models.ledger import LedgerOrder
from cift.execution.ledger import account_order
from cift.execution.marks import last_prices
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderChange, OrderRequest


def place(
    db: sessionmaker[Session], store: MarketStore, account_id: uuid.UUID, request: OrderRequest
) -> LedgerOrder:
    """Record an order (``new`` until sent, or ``rejected`` with the limit it broke); the
    same signal id returns the same order."""
    manager = OrderManager(db, account_id, None)
    manager.marks = last_prices(store, [request.symbol])
    return manager.submit(request)


def replace(
    db: sessionmaker[Session],
    store: MarketStore,
    account_id: uuid.UUID,
    order_id: str,
    change: OrderChange,
) -> LedgerOrder:
    """Record the replacement of a working order (see :meth:`OrderManager.replace`)."""
    with db() as session:
        symbol = account_order(session, account_id, order_id).symbol
    manager = OrderManager(db, account_id, None)
    manager.marks = last_prices(store, [symbol])
    return manager.replace(order_id, change)


def cancel(db: sessionmaker[Session], account_id: uuid.UUID, order_id: str) -> LedgerOrder:
    """Withdraw an order not sent yet, or record the cancel request for the session."""
    return OrderManager(db, account_id, None).cancel(order_id)
