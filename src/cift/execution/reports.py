"""The ledger as tables: orders, fills, positions with P&L, and a run's summary, for the
CLI and the API alike (exact decimals as strings, times in ISO 8601)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cift.db.models import TradingAccount
from cift.db.models.ledger import LedgerFill, LedgerOrder, LedgerPosition, TradingRun

ORDER_COLUMNS = (
    "id",
    "client_order_id",
    "symbol",
    "side",
    "order_type",
    "quantity",
    "limit_price",
    "stop_price",
    "state",
    "filled_quantity",
    "average_price",
    "reason",
    "created_at",
    "run_id",
    "replaces_id",
)
FILL_COLUMNS = (
    "order_id",
    "broker_fill_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "commission",
    "realized_pnl",
    "filled_at",
)


def _text(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _frame(rows: list[Any], columns: tuple[str, ...]) -> pl.DataFrame:
    data = {c: [_text(getattr(row, c)) for row in rows] for c in columns}
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String)).with_columns(
        pl.col("side").cast(pl.Int8)
    )


def orders_frame(
    db: sessionmaker[Session],
    account_id: uuid.UUID,
    run_id: uuid.UUID | None = None,
    open_only: bool = False,
    order_id: uuid.UUID | None = None,
) -> pl.DataFrame:
    """The account's orders (of one run, or the one ``order_id``), newest first."""
    query = select(LedgerOrder).where(LedgerOrder.account_id == account_id)
    if run_id is not None:
        query = query.where(LedgerOrder.run_id == run_id)
    if order_id is not None:
        query = query.where(LedgerOrder.id == order_id)
    with db() as session:
        rows = list(session.scalars(query.order_by(LedgerOrder.created_at.desc())))
    if open_only:
        rows = [row for row in rows if row.state.is_open]
    return _frame(rows, ORDER_COLUMNS)


def fills_frame(db: sessionmaker[Session], account_id: uuid.UUID) -> pl.DataFrame:
    """The account's fills, newest first."""
    with db() as session:
        rows = list(
            session.scalars(
                select(LedgerFill)
                .where(LedgerFill.account_id == account_id)
                .order_by(LedgerFill.filled_at.desc())
            )
        )
    return _frame(rows, FILL_COLUMNS)


def positions_frame(db: sessionmaker[Session], account_id: uuid.UUID) -> pl.DataFrame:
    """Positions with their value and P&L at the last known price."""
    with db() as session:
        rows = list(
            session.scalars(
                select(LedgerPosition)
                .where(LedgerPosition.account_id == account_id)
                .order_by(LedgerPosition.symbol)
            )
        )
    records = []
    for row in rows:
        price = row.last_price
        unrealized = (price - row.average_price) * row.quantity if price is not None else None
        records.append(
            {
                "symbol": row.symbol,
                "quantity": _text(row.quantity),
                "average_price": _text(row.average_price),
                "last_price": _text(price),
                "market_value": _text(None if price is None else price * row.quantity),
                "unrealized_pnl": _text(unrealized),
                "realized_pnl": _text(row.realized_pnl),
            }
        )
    columns = ("symbol", "quantity", "average_price", "last_price", "market_value")
    schema = dict.fromkeys((*columns, "unrealized_pnl", "realized_pnl"), pl.String)
    return pl.DataFrame(records, schema=schema)


def run_row(db: sessionmaker[Session], run: TradingRun) -> dict[str, Any]:
    """A run's summary: what, where, how far, how many orders and fills."""
    with db() as session:
        account = session.get(TradingAccount, run.account_id)
        orders = session.scalar(
            select(func.count()).select_from(LedgerOrder).where(LedgerOrder.run_id == run.id)
        )
        fills = session.scalar(
            select(func.count())
            .select_from(LedgerFill)
            .join(LedgerOrder, LedgerFill.order_id == LedgerOrder.id)
            .where(LedgerOrder.run_id == run.id)
        )
    return {
        "id": str(run.id),
        "account": account.name if account is not None else str(run.account_id),
        "strategy": run.strategy,
        "symbols": ",".join(run.symbols),
        "state": run.state.value,
        "bars_seen": run.bars_seen,
        "orders": orders or 0,
        "fills": fills or 0,
        "started_at": run.started_at.isoformat(),
        "stopped_at": _text(run.stopped_at),
        "code_version": run.code_version,
    }
