"""Alert conditions on a trading account, read from its ledger: P&L, drawdown, orders the
risk checks refused, and differences its reconciliations with the broker found.

Each check observes a value and the time of the newest thing it is made of (now, for P&L
and drawdown; the newest refusal or reconciliation for the counts), so a rule fires
again only on news (and after its cooldown), as price rules do.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cift.db.models import AuditEntry, TradingAccount
from cift.db.models.ledger import AccountDay, CashKind, CashMovement, LedgerOrder, OrderEvent
from cift.execution.ledger import risk_book
from cift.execution.reconcile import RECONCILED

Observation = tuple[float, datetime]


class AccountCondition(BaseModel):
    """Fire on the rule's trading account: ``pnl_below`` (P&L since the deposits, in its
    currency, at or below ``level``), ``drawdown_above`` (fall from the highest equity it
    opened a day with, a fraction: 0.05 is 5%), ``risk_rejections`` (at least ``level``
    orders refused by the risk checks in the last ``window_minutes``),
    ``reconciliation_differences`` (at least ``level`` differences found by
    reconciliations in the window)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["pnl_below", "drawdown_above", "risk_rejections", "reconciliation_differences"]
    level: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)
    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)

    def describe(self) -> str:
        if self.kind == "pnl_below":
            return f"P&L at or below {self.level:g}"
        if self.kind == "drawdown_above":
            return f"drawdown at or above {self.level:.2%}"
        what = "risk rejections" if self.kind == "risk_rejections" else "reconciliation differences"
        return f"{self.level:g}+ {what} in {self.window_minutes} min"

    def holds(self, value: float) -> bool:
        return value <= self.level if self.kind == "pnl_below" else value >= self.level

    def observe(self, session: Session, account_id: uuid.UUID, now: datetime) -> Observation | None:
        """The account's value for this condition and when it was observed (None: no
        value, e.g. a held symbol without a price)."""
        account = session.get(TradingAccount, account_id)
        if account is None:
            return None
        if self.kind in ("pnl_below", "drawdown_above"):
            equity = risk_book(session, account, {}, now.date()).equity()
            if equity is None:
                return None
            if self.kind == "pnl_below":
                return float(equity - _deposited(session, account_id)), now
            return _drawdown(session, account_id, equity), now
        since = now - timedelta(minutes=self.window_minutes)
        if self.kind == "risk_rejections":
            return _rejections(session, account_id, since)
        return _differences(session, account_id, since)


def _deposited(session: Session, account_id: uuid.UUID) -> Decimal:
    moved = session.scalar(
        select(func.coalesce(func.sum(CashMovement.amount), 0)).where(
            CashMovement.account_id == account_id,
            CashMovement.kind.in_([CashKind.DEPOSIT, CashKind.WITHDRAWAL]),
        )
    )
    return Decimal(moved or 0)


def _drawdown(session: Session, account_id: uuid.UUID, equity: Decimal) -> float:
    """1 - equity / the highest equity the account opened a day with (or has now)."""
    opened = session.scalar(
        select(func.max(AccountDay.opening_equity)).where(AccountDay.account_id == account_id)
    )
    peak = max(Decimal(opened or 0), equity)
    return float(1 - equity / peak) if peak > 0 else 0.0


def _rejections(session: Session, account_id: uuid.UUID, since: datetime) -> Observation | None:
    rows = session.execute(
        select(OrderEvent.details, OrderEvent.occurred_at)
        .join(LedgerOrder, LedgerOrder.id == OrderEvent.order_id)
        .where(
            LedgerOrder.account_id == account_id,
            OrderEvent.kind == "reject",
            OrderEvent.occurred_at >= since,
        )
    ).all()
    refused = [at for details, at in rows if details and "risk" in details]  # not withdrawals
    return (float(len(refused)), max(refused)) if refused else None


def _differences(session: Session, account_id: uuid.UUID, since: datetime) -> Observation | None:
    rows = session.execute(
        select(AuditEntry.details, AuditEntry.occurred_at).where(
            AuditEntry.action == RECONCILED,
            AuditEntry.target_id == str(account_id),
            AuditEntry.occurred_at >= since,
        )
    ).all()
    if not rows:
        return None
    found = sum(int(details.get("differences", 0)) for details, _ in rows)
    return float(found), max(at for _, at in rows)
