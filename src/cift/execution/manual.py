"""Orders placed, replaced and canceled by hand (the API, the command line), outside the
account's trading session: risk-checked at the store's last prices and kept in the
ledger, where the running session (``cift trade run``) finds them and sends them; with
``news``, each change is also published on the bus's ``orders`` topic."""

from __future__ import annotations

import time
import uuid

from sqlalchemy.orm import Session, sessionmaker

from cift.data.store.base import MarketStore
from cift.db.models.ledger import LedgerOrder
from cift.execution.ledger import account_order
from cift.execution.marks import last_prices
from cift.execution.oms import OrderManager
from cift.execution.order_events import OrderNews
from cift.execution.requests import OrderChange, OrderRequest


def place(
    db: sessionmaker[Session],
    store: MarketStore,
    account_id: uuid.UUID,
    request: OrderRequest,
    news: OrderNews | None = None,
) -> LedgerOrder:
    """Record an order (``new`` until sent, or ``rejected`` with the limit it broke); the
    same signal id returns the same order."""
    manager = OrderManager(db, account_id, None)
    manager.marks = last_prices(store, [request.symbol])
    return _told(news, manager.submit(request))


def replace(
    db: sessionmaker[Session],
    store: MarketStore,
    account_id: uuid.UUID,
    order_id: str,
    change: OrderChange,
    news: OrderNews | None = None,
) -> LedgerOrder:
    """Record the replacement of a working order (see :meth:`OrderManager.replace`)."""
    with db() as session:
        symbol = account_order(session, account_id, order_id).symbol
    manager = OrderManager(db, account_id, None)
    manager.marks = last_prices(store, [symbol])
    return _told(news, manager.replace(order_id, change))


def cancel(
    db: sessionmaker[Session],
    account_id: uuid.UUID,
    order_id: str,
    news: OrderNews | None = None,
) -> LedgerOrder:
    """Withdraw an order not sent yet, or record the cancel request for the session."""
    return _told(news, OrderManager(db, account_id, None).cancel(order_id))


def _told(news: OrderNews | None, order: LedgerOrder) -> LedgerOrder:
    if news is not None:
        news.publish([order], time.time_ns())
    return order
