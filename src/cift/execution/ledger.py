"""Booking into the ledger, inside the caller's transaction: order events, fills with their
position and cash, and the account as the risk checks see it.

A fill is booked exactly once (its broker fill id is unique per account) and, in the same
transaction, moves the order's filled quantity, the position and the cash, so positions
always equal the sum of fills and cash the sum of its movements.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from cift.core.errors import NotFoundError
from cift.db.base import utcnow
from cift.db.models import TradingAccount
from cift.db.models.ledger import (
    AccountDay,
    CashKind,
    CashMovement,
    LedgerFill,
    LedgerOrder,
    LedgerPosition,
    OrderEvent,
    OrderState,
)
from cift.db.types import MONEY_SCALE
from cift.execution.risk import ZERO, RiskBook
from cift.execution.state import OrderEventKind, advance

TICK = Decimal(1).scaleb(-MONEY_SCALE)
OPEN_STATES = [state for state in OrderState if state.is_open]


@dataclass(frozen=True)
class FillReport:
    """One execution as the broker reports it. A broker that names the order's totals
    after the fill (``cumulative`` quantity and ``average_price``) lets the ledger book
    only what it has not booked yet: a repeated, late or merged report books nothing
    twice and misses nothing."""

    broker_fill_id: str
    quantity: Decimal
    price: Decimal
    commission: Decimal
    filled_at: datetime
    cumulative: Decimal | None = None
    average_price: Decimal | None = None


def record(
    session: Session,
    order: LedgerOrder,
    kind: OrderEventKind,
    at: datetime,
    *,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Move ``order`` by ``kind`` and append the event; False when the event repeats the
    current state. Illegal moves raise :class:`~cift.execution.state.OrderStateError`."""
    fill = quantity if kind is OrderEventKind.FILL else None
    after = advance(order.state, kind, order.quantity, order.filled_quantity, fill)
    if after is None:
        return False
    session.add(
        OrderEvent(
            order_id=order.id,
            kind=kind.value,
            state_before=order.state,
            state_after=after,
            occurred_at=at,
            quantity=quantity,
            price=price,
            details=details or {},
        )
    )
    order.state = after
    if after.is_terminal and order.closed_at is None:
        order.closed_at = at
    return True


def book_fill(session: Session, order: LedgerOrder, report: FillReport) -> LedgerFill | None:
    """Book one fill of ``order`` with its position and cash; None if it was booked before."""
    seen = session.scalar(
        select(LedgerFill.id).where(
            LedgerFill.account_id == order.account_id,
            LedgerFill.broker_fill_id == report.broker_fill_id,
        )
    )
    if seen is not None:
        return None
    if report.cumulative is not None:
        added = _added(order, report)
        if added is None:
            return None
        report = added
    report = _on_scale(report)
    record(
        session,
        order,
        OrderEventKind.FILL,
        report.filled_at,
        quantity=report.quantity,
        price=report.price,
        details={"fill": report.broker_fill_id},
    )
    done = order.filled_quantity
    order.average_price = (
        (order.average_price or ZERO) * done + report.price * report.quantity
    ) / (done + report.quantity)
    order.filled_quantity = done + report.quantity
    realized = _move_position(session, order, report)
    fill = LedgerFill(
        id=uuid.uuid4(),
        account_id=order.account_id,
        order_id=order.id,
        broker_fill_id=report.broker_fill_id,
        symbol=order.symbol,
        side=order.side,
        quantity=report.quantity,
        price=report.price,
        commission=report.commission,
        realized_pnl=realized,
        filled_at=report.filled_at,
        booked_at=utcnow(),
    )
    session.add(fill)
    session.flush()
    trade = -order.side * report.quantity * report.price
    _move_cash(session, order.account_id, CashKind.TRADE, trade, fill, report.filled_at)
    if report.commission:
        _move_cash(
            session,
            order.account_id,
            CashKind.COMMISSION,
            -report.commission,
            fill,
            report.filled_at,
        )
    return fill


def _added(order: LedgerOrder, report: FillReport) -> FillReport | None:
    """What a report of the order's totals adds to what the ledger holds (None: nothing,
    it was booked from an earlier or a later report); its price is what brings the
    order's average to the broker's."""
    assert report.cumulative is not None
    more = report.cumulative - order.filled_quantity
    if more <= 0:
        return None
    if more == report.quantity or report.average_price is None:
        return replace(report, quantity=more)
    booked = (order.average_price or ZERO) * order.filled_quantity
    price = (report.average_price * report.cumulative - booked) / more
    return replace(report, quantity=more, price=price if price > 0 else report.price)


def _on_scale(report: FillReport) -> FillReport:
    """The report at the ledger's decimal places, so every amount derived from a fill is
    derived from the values stored with it."""
    return replace(
        report,
        quantity=report.quantity.quantize(TICK),
        price=report.price.quantize(TICK),
        commission=report.commission.quantize(TICK),
    )


def _move_position(session: Session, order: LedgerOrder, report: FillReport) -> Decimal:
    """Apply the fill at average cost; returns the P&L it realizes (before commission)."""
    position = session.get(LedgerPosition, (order.account_id, order.symbol))
    if position is None:
        position = LedgerPosition(
            account_id=order.account_id,
            symbol=order.symbol,
            quantity=ZERO,
            average_price=ZERO,
            realized_pnl=ZERO,
            updated_at=report.filled_at,
        )
        session.add(position)
    before, side, quantity, price = position.quantity, order.side, report.quantity, report.price
    after = before + side * quantity
    realized = ZERO
    if before == 0 or (before > 0) == (side > 0):
        held = abs(before)
        position.average_price = (held * position.average_price + quantity * price) / (
            held + quantity
        )
    else:
        closing = min(quantity, abs(before))
        realized = closing * (price - position.average_price) * (1 if before > 0 else -1)
        if after == 0:
            position.average_price = ZERO
        elif (after > 0) != (before > 0):
            position.average_price = price
    position.quantity = after
    position.realized_pnl += realized
    position.last_price = price
    position.updated_at = report.filled_at
    return realized


def _move_cash(
    session: Session,
    account_id: uuid.UUID,
    kind: CashKind,
    amount: Decimal,
    fill: LedgerFill | None,
    at: datetime,
) -> None:
    account = session.get(TradingAccount, account_id, with_for_update=True)
    assert account is not None
    account.cash += amount
    session.add(
        CashMovement(
            account_id=account_id,
            kind=kind,
            amount=amount,
            fill_id=fill.id if fill is not None else None,
            occurred_at=at,
        )
    )


def open_orders(session: Session, account_id: uuid.UUID) -> list[LedgerOrder]:
    """The account's orders still open, oldest first."""
    return list(
        session.scalars(
            select(LedgerOrder)
            .where(LedgerOrder.account_id == account_id, LedgerOrder.state.in_(OPEN_STATES))
            .order_by(LedgerOrder.created_at)
        )
    )


def last_fill_at(session: Session, order: LedgerOrder) -> datetime | None:
    """When ``order`` last filled (None: it never did)."""
    return session.scalar(
        select(func.max(LedgerFill.filled_at)).where(LedgerFill.order_id == order.id)
    )


def order_by_client(session: Session, client_order_id: str) -> LedgerOrder | None:
    return session.scalar(select(LedgerOrder).where(LedgerOrder.client_order_id == client_order_id))


def account_order(session: Session, account_id: uuid.UUID, order_id: str) -> LedgerOrder:
    """An order of the account by its id or client order id."""
    order = order_by_client(session, order_id)
    if order is None:
        try:
            order = session.get(LedgerOrder, uuid.UUID(order_id))
        except ValueError:
            order = None
    if order is None or order.account_id != account_id:
        raise NotFoundError(
            f"No order {order_id} on this account; list them with 'cift trade orders'."
        )
    return order


def risk_book(
    session: Session,
    account: TradingAccount,
    marks: dict[str, Decimal],
    day: date,
    *,
    besides: uuid.UUID | None = None,
) -> RiskBook:
    """The account as the pre-trade checks see it: cash, positions, open orders' remaining
    quantity and the cash they hold (but order ``besides``, the one being replaced), last
    prices (ledger marks where none are given) and the day's opening equity (recorded at
    the day's first check)."""
    known = dict(marks)
    positions: dict[str, Decimal] = {}
    held = session.execute(
        select(LedgerPosition.symbol, LedgerPosition.quantity, LedgerPosition.last_price).where(
            LedgerPosition.account_id == account.id, LedgerPosition.quantity != ZERO
        )
    )
    for symbol, quantity, last_price in held:
        positions[symbol] = quantity
        if symbol not in known and last_price is not None:
            known[symbol] = last_price
    book = RiskBook(cash=account.cash, positions=positions, marks=known)
    open_orders = session.execute(
        select(
            LedgerOrder.symbol,
            LedgerOrder.side,
            LedgerOrder.quantity,
            LedgerOrder.filled_quantity,
            LedgerOrder.limit_price,
        ).where(
            LedgerOrder.account_id == account.id,
            LedgerOrder.state.in_(OPEN_STATES),
            LedgerOrder.id != besides if besides is not None else true(),
        )
    )
    for symbol, side, quantity, filled, limit in open_orders:
        remaining = quantity - filled
        book.open_quantity[symbol] = book.open_quantity.get(symbol, ZERO) + side * remaining
        if side > 0:
            book.reserved_cash += remaining * (limit or known.get(symbol) or ZERO)
    book.opening_equity = _opening_equity(session, account.id, day, book)
    return book


def _opening_equity(
    session: Session, account_id: uuid.UUID, day: date, book: RiskBook
) -> Decimal | None:
    opening = session.get(AccountDay, (account_id, day))
    if opening is not None:
        return opening.opening_equity
    equity = book.equity()
    if equity is not None:
        session.add(AccountDay(account_id=account_id, day=day, opening_equity=equity))
    return equity
