"""The trading ledger: orders, their append-only event log, fills, positions, cash movements,
trading halts (kill switches), each day's opening equity, and live trading runs.

Quantities and prices are exact decimals (``Money``). An order's row holds its current
state; every change of it is also one ``order_events`` row, never updated or deleted.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cift.db.base import Base, OwnedByUser, Timestamps, UUIDPrimaryKey, str_enum
from cift.db.models.monitoring import BigIntPK
from cift.db.types import JSONDocument, Money, UTCDateTime


class OrderState(StrEnum):
    """Where an order is in its life (``cift.execution.state`` says which moves are legal)."""

    NEW = "new"  # persisted, not yet sent
    SUBMITTED = "submitted"  # sent, the broker has not answered
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"

    @property
    def is_open(self) -> bool:
        """Still able to fill (or to be found at the broker)."""
        return self not in _CLOSED

    @property
    def is_terminal(self) -> bool:
        return self in _CLOSED


_CLOSED = frozenset(
    {
        OrderState.FILLED,
        OrderState.CANCELED,
        OrderState.REJECTED,
        OrderState.EXPIRED,
        OrderState.REPLACED,
    }
)


class LedgerOrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class LedgerTimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class LedgerOrder(UUIDPrimaryKey, Timestamps, Base):
    """One order of an account, as the OMS knows it (persisted before it is sent)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_account_id_state", "account_id", "state"),
        Index("ix_orders_run_id", "run_id"),
        UniqueConstraint("account_id", "broker_order_id"),
        CheckConstraint("side IN (1, -1)", name="side_sign"),
        CheckConstraint("CAST(quantity AS NUMERIC) > 0", name="quantity_positive"),
        CheckConstraint(
            "CAST(filled_quantity AS NUMERIC) <= CAST(quantity AS NUMERIC)",
            name="filled_within_quantity",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE")
    )
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    broker_order_id: Mapped[str | None] = mapped_column(String(100))
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("trading_runs.id", ondelete="SET NULL")
    )
    signal_id: Mapped[str | None] = mapped_column(String(200))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[int] = mapped_column(SmallInteger)
    order_type: Mapped[LedgerOrderType] = mapped_column(str_enum(LedgerOrderType, "order_type"))
    time_in_force: Mapped[LedgerTimeInForce] = mapped_column(
        str_enum(LedgerTimeInForce, "time_in_force")
    )
    quantity: Mapped[Decimal] = mapped_column(Money())
    limit_price: Mapped[Decimal | None] = mapped_column(Money())
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    state: Mapped[OrderState] = mapped_column(str_enum(OrderState, "state"))
    filled_quantity: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    average_price: Mapped[Decimal | None] = mapped_column(Money())
    reason: Mapped[str | None] = mapped_column(String(500))
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL")
    )
    tag: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrderEvent(Base):
    """One change of one order; the table is append-only."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    state_before: Mapped[OrderState | None] = mapped_column(str_enum(OrderState, "state_before"))
    state_after: Mapped[OrderState] = mapped_column(str_enum(OrderState, "state_after"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quantity: Mapped[Decimal | None] = mapped_column(Money())
    price: Mapped[Decimal | None] = mapped_column(Money())
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)


class LedgerFill(UUIDPrimaryKey, Base):
    """One execution, booked once: the broker's fill id is unique per account."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("account_id", "broker_fill_id"),
        Index("ix_fills_order_id", "order_id"),
        Index("ix_fills_account_id_filled_at", "account_id", "filled_at"),
        CheckConstraint("CAST(quantity AS NUMERIC) > 0", name="quantity_positive"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    broker_fill_id: Mapped[str] = mapped_column(String(100))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[int] = mapped_column(SmallInteger)
    quantity: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    realized_pnl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    filled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerPosition(Base):
    """What an account holds in one symbol: the sum of its fills."""

    __tablename__ = "positions"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    average_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    realized_pnl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    last_price: Mapped[Decimal | None] = mapped_column(Money())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CashKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRADE = "trade"
    COMMISSION = "commission"


class CashMovement(UUIDPrimaryKey, Base):
    """One change of an account's cash; they sum to the account's cash."""

    __tablename__ = "cash_movements"
    __table_args__ = (
        Index("ix_cash_movements_account_id_occurred_at", "account_id", "occurred_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE")
    )
    kind: Mapped[CashKind] = mapped_column(str_enum(CashKind, "kind"))
    amount: Mapped[Decimal] = mapped_column(Money())
    fill_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("fills.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(200))


class TradingHalt(UUIDPrimaryKey, Base):
    """A kill switch engaged on one account (or on every account: no account id); it
    holds until an admin resets it."""

    __tablename__ = "trading_halts"
    __table_args__ = (Index("ix_trading_halts_account_id_reset_at", "account_id", "reset_at"),)

    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(500))
    engaged_by: Mapped[str] = mapped_column(String(200))
    engaged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reset_by: Mapped[str | None] = mapped_column(String(200))
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountDay(Base):
    """An account's equity when its trading day began: the base of the daily-loss limit."""

    __tablename__ = "account_days"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    opening_equity: Mapped[Decimal] = mapped_column(Money())


class RunState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


class TradingRun(OwnedByUser, Timestamps, Base):
    """A strategy trading an account on live data: recorded like a backtest."""

    __tablename__ = "trading_runs"
    __table_args__ = (
        Index("ix_trading_runs_account_id", "account_id"),
        CheckConstraint("bars_seen >= 0", name="bars_seen_non_negative"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE")
    )
    strategy: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    symbols: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    timeframe: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    code_version: Mapped[str] = mapped_column(String(100))
    state: Mapped[RunState] = mapped_column(str_enum(RunState, "state"))
    bars_seen: Mapped[int] = mapped_column(Integer, default=0)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    lineage: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
