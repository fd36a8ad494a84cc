"""Kill switches: a halt on one account, or on every account, that refuses new orders and
has open ones canceled until an admin resets it. Engaging and resetting are audited.

A halt is a row, so every process that trades the account sees it: the OMS checks it
before each order, and a live runner polls it to cancel what is still open.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cift.audit.chain import Actor, append
from cift.db.base import utcnow
from cift.db.models.ledger import TradingHalt

ENGAGE = "trading.halt"
RESET = "trading.halt_reset"


def active(session: Session, account_id: uuid.UUID) -> TradingHalt | None:
    """The halt in force on ``account_id`` (its own or the global one), if any."""
    return session.scalar(
        select(TradingHalt)
        .where(
            TradingHalt.reset_at.is_(None),
            or_(TradingHalt.account_id == account_id, TradingHalt.account_id.is_(None)),
        )
        .order_by(TradingHalt.engaged_at)
        .limit(1)
    )


def engage(
    session: Session, actor: Actor, account_id: uuid.UUID | None, reason: str
) -> TradingHalt:
    """Halt ``account_id`` (None: every account), unless it already is."""
    existing = _engaged(session, account_id)
    if existing:
        return existing[0]
    halt = TradingHalt(
        account_id=account_id, reason=reason[:500], engaged_by=actor.name, engaged_at=utcnow()
    )
    session.add(halt)
    session.flush()
    append(
        session,
        actor,
        ENGAGE,
        target_type=_scope_type(account_id),
        target_id=None if account_id is None else str(account_id),
        details={"reason": reason[:200]},
    )
    return halt


def reset(session: Session, actor: Actor, account_id: uuid.UUID | None) -> int:
    """Lift the halt of ``account_id`` (None: the global one); how many were lifted. The
    caller checks that ``actor`` is an admin."""
    halts = _engaged(session, account_id)
    now = utcnow()
    for halt in halts:
        halt.reset_at, halt.reset_by = now, actor.name
    if halts:
        append(
            session,
            actor,
            RESET,
            target_type=_scope_type(account_id),
            target_id=None if account_id is None else str(account_id),
            details={"lifted": len(halts)},
        )
    return len(halts)


def _engaged(session: Session, account_id: uuid.UUID | None) -> list[TradingHalt]:
    """Halts in force on exactly this scope (an account, or all accounts for None)."""
    scope = (
        TradingHalt.account_id.is_(None)
        if account_id is None
        else TradingHalt.account_id == account_id
    )
    return list(session.scalars(select(TradingHalt).where(TradingHalt.reset_at.is_(None), scope)))


def _scope_type(account_id: uuid.UUID | None) -> str:
    """What a halt's audit entry targets: one account, or all of them."""
    return "all_accounts" if account_id is None else "account"
