"""Trading for the API: orders placed and canceled through the ledger (the account's
running session sends them), the ledger read back, the kill switch, and runs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor
from cift.core.settings import Settings
from cift.data.store.base import MarketStore
from cift.db.engine import transaction
from cift.db.models import TradingAccount
from cift.execution import halts, manual, reports
from cift.execution.accounts import accounts
from cift.execution.order_events import OrderNews
from cift.execution.requests import OrderChange, OrderRequest
from cift.execution.runs import trading_runs

from ..schemas.trading import FillOut, OrderOut, PositionOut, PositionsOut, RunOut

Sessions = sessionmaker[Session]


def _account(db: Sessions, account_id: uuid.UUID, owner: uuid.UUID) -> TradingAccount:
    return accounts(db).get(account_id, owner)


def orders(
    db: Sessions, account_id: uuid.UUID, owner: uuid.UUID, open_only: bool
) -> list[OrderOut]:
    """The owner's account's orders, newest first, each with its fills."""
    account = _account(db, account_id, owner)
    fills = reports.fills_frame(db, account.id)
    out = []
    for record in reports.orders_frame(db, account.id, None, open_only).iter_rows(named=True):
        own = fills.filter(fills["order_id"] == record["id"]).iter_rows(named=True)
        out.append(OrderOut(**record, fills=[FillOut(**fill) for fill in own]))
    return out


def place(
    db: Sessions,
    store: MarketStore,
    account_id: uuid.UUID,
    owner: uuid.UUID,
    request: OrderRequest,
    news: OrderNews | None = None,
) -> OrderOut:
    """Check and record an order (state ``new`` until the account's session sends it, or
    ``rejected`` with the limit it broke), valued at the store's last price, and publish
    the news; the same signal id returns the same order."""
    account = _account(db, account_id, owner)
    return _one(db, account.id, manual.place(db, store, account.id, request, news).id)


def replace(
    db: Sessions,
    store: MarketStore,
    account_id: uuid.UUID,
    owner: uuid.UUID,
    order_id: str,
    change: OrderChange,
    news: OrderNews | None = None,
) -> OrderOut:
    """Record a working order's replacement (risk-checked like a new order); the answer
    is the replacement, ``new`` until the account's session sends it."""
    account = _account(db, account_id, owner)
    changed = manual.replace(db, store, account.id, order_id, change, news)
    return _one(db, account.id, changed.id)


def cancel(
    db: Sessions,
    account_id: uuid.UUID,
    owner: uuid.UUID,
    order_id: str,
    news: OrderNews | None = None,
) -> OrderOut:
    """Withdraw an order not sent yet, or record the cancel request for the session."""
    account = _account(db, account_id, owner)
    return _one(db, account.id, manual.cancel(db, account.id, order_id, news).id)


def _one(db: Sessions, account_id: uuid.UUID, order_id: uuid.UUID) -> OrderOut:
    frame = reports.orders_frame(db, account_id, order_id=order_id)
    (record,) = frame.iter_rows(named=True)
    return OrderOut(**record)


def fills(db: Sessions, account_id: uuid.UUID, owner: uuid.UUID) -> list[FillOut]:
    account = _account(db, account_id, owner)
    return [FillOut(**row) for row in reports.fills_frame(db, account.id).iter_rows(named=True)]


def positions(db: Sessions, account_id: uuid.UUID, owner: uuid.UUID) -> PositionsOut:
    account = _account(db, account_id, owner)
    rows = reports.positions_frame(db, account.id).iter_rows(named=True)
    cash = format(account.cash.normalize(), "f")
    return PositionsOut(cash=cash, positions=[PositionOut(**row) for row in rows])


def halt(
    db: Sessions, actor: Actor, account_id: uuid.UUID | None, owner: uuid.UUID, reason: str
) -> dict[str, Any]:
    """Engage the kill switch on one of the owner's accounts (or, for an admin, on all)."""
    if account_id is not None:
        _account(db, account_id, owner)
    with transaction(db) as session:
        row = halts.engage(session, actor, account_id, reason)
        return {
            "account_id": None if account_id is None else str(account_id),
            "reason": row.reason,
            "engaged_at": row.engaged_at.isoformat(),
        }


def reset(db: Sessions, actor: Actor, account_id: uuid.UUID | None) -> dict[str, Any]:
    with transaction(db) as session:
        return {"lifted": halts.reset(session, actor, account_id)}


def runs(db: Sessions, owner: uuid.UUID) -> list[RunOut]:
    return [RunOut(**reports.run_row(db, run)) for run in trading_runs(db).list(owner)]


def run_parity(
    db: Sessions, settings: Settings, store: MarketStore, owner: uuid.UUID, run_id: uuid.UUID
) -> dict[str, Any]:
    """The run replayed by the backtest engine, which loads with the first request."""
    from cift.execution.parity import parity

    return parity(db, settings, store, owner, run_id).to_dict()
