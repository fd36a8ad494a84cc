"""Reconciliation: the ledger's orders, fills and positions against the broker's.

Run at a session's start, after every reconnect of a broker's stream, periodically, and
by hand (``cift trade reconcile``). Each open order of the ledger is looked up at the
broker: fills the ledger missed are booked (each once), closing states caught up.
Orders working at the broker that the ledger never made are flagged. Positions that
still differ are reported, and with ``fix`` set to the broker's quantity by an
adjustment in the audit log: the broker holds the truth about what the account owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

from loguru import logger
from sqlalchemy import select

from cift.audit.chain import Actor, append
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models.ledger import LedgerPosition, OrderState
from cift.execution.brokers.base import BrokerOrderStatus
from cift.execution.ledger import open_orders, order_by_client
from cift.execution.oms import OrderManager
from cift.execution.recovery import catch_up

ADJUST = "trading.position_adjusted"
RECONCILED = "trading.reconciled"
ZERO = Decimal(0)


@runtime_checkable
class AccountView(Protocol):
    """What a broker that keeps the account's truth can say of it."""

    def find(self, client_order_id: str) -> BrokerOrderStatus | None: ...

    def open_orders(self) -> list[BrokerOrderStatus]: ...

    def positions(self) -> dict[str, Decimal]: ...

    def reconnected(self) -> bool:
        """Whether its news stream connected again since the last call (news may be
        lost in between)."""
        ...


@dataclass
class Reconciliation:
    """What a reconciliation found and did."""

    orders_checked: int = 0
    fills_booked: int = 0
    caught_up: list[str] = field(default_factory=list)
    """Orders whose state the ledger had behind the broker's."""
    not_at_broker: list[str] = field(default_factory=list)
    """Orders the ledger has as sent that the broker does not know."""
    unknown_orders: list[str] = field(default_factory=list)
    """Orders working at the broker that the ledger never made."""
    positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Symbol -> (ledger, broker) quantity where they differed."""
    adjusted: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """What was found, by kind (for the metrics)."""
        return {
            "missed_fill": self.fills_booked,
            "order_behind": len(self.caught_up),
            "not_at_broker": len(self.not_at_broker),
            "unknown_order": len(self.unknown_orders),
            "position": len(self.positions),
        }

    @property
    def clean(self) -> bool:
        """Nothing was missing and nothing differs."""
        return not (
            self.fills_booked
            or self.caught_up
            or self.not_at_broker
            or self.unknown_orders
            or self.positions
        )


def reconcile(
    oms: OrderManager, broker: AccountView, actor: Actor, *, fix: bool = True
) -> Reconciliation:
    """Compare the account at the broker with the ledger and repair what can be."""
    outcome = Reconciliation()
    with oms.db() as session:
        working = open_orders(session, oms.account_id)
    for order in working:
        outcome.orders_checked += 1
        status = broker.find(order.client_order_id)
        if status is None:
            if order.state is not OrderState.NEW:  # a new one is the session's to send
                outcome.not_at_broker.append(order.client_order_id)
            continue
        booked = catch_up(oms, status)
        outcome.fills_booked += booked
        if booked or status.state is not order.state:
            outcome.caught_up.append(order.client_order_id)
    _unknown(oms, broker, outcome)
    _positions(oms, broker, actor, outcome, fix)
    if not outcome.clean:
        logger.warning("account {} reconciled with its broker: {}", oms.account_id, outcome)
        counts = outcome.counts()
        with transaction(oms.db) as session:  # what alert rules on differences read
            append(
                session,
                actor,
                RECONCILED,
                target_type="trading_account",
                target_id=str(oms.account_id),
                details={**counts, "differences": sum(counts.values())},
            )
    return outcome


def _unknown(oms: OrderManager, broker: AccountView, outcome: Reconciliation) -> None:
    with oms.db() as session:
        for status in broker.open_orders():
            if order_by_client(session, status.client_order_id) is None:
                outcome.unknown_orders.append(status.client_order_id)


def _positions(
    oms: OrderManager, broker: AccountView, actor: Actor, outcome: Reconciliation, fix: bool
) -> None:
    held = broker.positions()
    with transaction(oms.db) as session:
        rows = {
            p.symbol: p
            for p in session.scalars(
                select(LedgerPosition).where(LedgerPosition.account_id == oms.account_id)
            )
        }
        for symbol in sorted(set(held) | set(rows)):
            ledger = rows[symbol].quantity if symbol in rows else ZERO
            there = held.get(symbol, ZERO)
            if ledger == there:
                continue
            outcome.positions[symbol] = (ledger, there)
            if not fix:
                continue
            row = rows.get(symbol) or LedgerPosition(
                account_id=oms.account_id, symbol=symbol, quantity=ZERO,
                average_price=ZERO, realized_pnl=ZERO, updated_at=utcnow(),
            )  # fmt: skip
            row.quantity, row.updated_at = there, utcnow()
            session.add(row)
            append(
                session,
                actor,
                ADJUST,
                target_type="trading_account",
                target_id=str(oms.account_id),
                details={"symbol": symbol, "ledger": str(ledger), "broker": str(there)},
            )
            outcome.adjusted.append(symbol)
